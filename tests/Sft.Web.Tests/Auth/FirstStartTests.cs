using System.Net;
using System.Net.Http.Headers;
using Sft.Web.Auth;
using Sft.Web.Cli;

namespace Sft.Web.Tests.Auth;

/// <summary>The real executable started with no key and no user, then a key made with its CLI command on the same
/// data folder. (Separate processes: Hangfire keeps process-wide state that two hosts in one process would share.)</summary>
public class FirstStartTests : IDisposable
{
    readonly string _dataDir = Directory.CreateTempSubdirectory("sft-first-start-").FullName;

    [Fact]
    public async Task First_start_says_how_to_create_a_key_and_the_cli_key_then_works()
    {
        await using var server = await ServerProcess.StartAsync(_dataDir);
        Assert.Contains(server.Output, line => line.Contains("create-api-key --name admin") && line.Contains("Auth__BootstrapApiKey"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/jobs")).StatusCode);

        var (exitCode, stdout, stderr) = await ServerProcess.RunCliAsync(_dataDir, "create-api-key", "--name", "first admin");
        Assert.True(exitCode == 0, stderr);
        var key = stdout.Trim();
        Assert.Null(ApiKeys.CheckFormat(key));
        Assert.Contains("shown once", stderr);
        Assert.DoesNotContain(key, stderr);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/api-keys")).StatusCode);     // an admin key

        (exitCode, stdout, _) = await ServerProcess.RunCliAsync(_dataDir, "create-api-key", "--name", "reader", "--no-admin");
        Assert.Equal(0, exitCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", stdout.Trim());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/api/v1/api-keys")).StatusCode);
    }

    [Fact]
    public async Task The_cli_command_rejects_a_missing_name_with_a_usage_error()
    {
        var (exitCode, _, stderr) = await ServerProcess.RunCliAsync(_dataDir, "create-api-key");
        Assert.Equal(2, exitCode);
        Assert.Contains("missing required option '--name'", stderr);
        Assert.True(CliCommands.TryGet(CreateApiKeyCommand.Name, out _));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }
}
