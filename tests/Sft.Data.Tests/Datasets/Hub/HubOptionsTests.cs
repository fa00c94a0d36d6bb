using Sft.Data.Datasets.Hub;

namespace Sft.Data.Tests.Datasets.Hub;

public class HubOptionsTests
{
    [Fact]
    public void Reads_the_huggingface_hub_environment_variables()
    {
        using var home = new TempFolder();
        File.WriteAllText(home.File("token"), "hf_from_file\n");
        var env = new Dictionary<string, string> { ["HF_HOME"] = home.Path, ["HF_ENDPOINT"] = "http://mirror.local:8080/", ["HF_HUB_OFFLINE"] = "1" };

        var options = HubOptions.FromEnvironment(env.GetValueOrDefault);

        Assert.Equal(Path.Combine(home.Path, "hub"), options.CacheDir);
        Assert.Equal("hf_from_file", options.Token);
        Assert.Equal("http://mirror.local:8080", options.Endpoint);
        Assert.True(options.Offline);
    }

    [Fact]
    public void Explicit_cache_and_token_variables_win()
    {
        using var home = new TempFolder();
        File.WriteAllText(home.File("token"), "hf_from_file");
        var env = new Dictionary<string, string>
        {
            ["HF_HOME"] = home.Path, ["HF_HUB_CACHE"] = "/data/hub", ["HF_TOKEN"] = "hf_env", ["HF_HUB_OFFLINE"] = "0",
        };

        var options = HubOptions.FromEnvironment(env.GetValueOrDefault);

        Assert.Equal("/data/hub", options.CacheDir);
        Assert.Equal("hf_env", options.Token);
        Assert.Equal(HubOptions.DefaultEndpoint, options.Endpoint);
        Assert.False(options.Offline);
    }

    [Fact]
    public void Defaults_follow_xdg_cache_home()
    {
        var env = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = "/xdg" };
        var options = HubOptions.FromEnvironment(env.GetValueOrDefault);
        Assert.Equal("/xdg/huggingface/hub", options.CacheDir);
        Assert.Equal("/xdg/huggingface/token", options.TokenPath);
        Assert.Null(options.Token);
    }
}
