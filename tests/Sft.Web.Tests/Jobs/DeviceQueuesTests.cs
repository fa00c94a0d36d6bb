using Sft.Web.Jobs;

namespace Sft.Web.Tests.Jobs;

public class DeviceQueuesTests
{
    [Fact]
    public void Detection_always_offers_the_cpu_queue_and_one_queue_per_gpu()
    {
        var detected = DeviceQueues.Detect();                       // real TorchSharp: no CUDA on the build machines
        Assert.Equal("cpu", detected.Names[0]);
        Assert.All(detected.Names.Skip(1), name => Assert.Matches("^cuda[0-9]+$", name));
        Assert.Contains("CUDA device", detected.Source);
    }

    [Fact]
    public void A_configured_list_wins_and_bad_names_are_refused_with_the_fix()
    {
        var configured = DeviceQueues.Resolve(["cuda1", "cpu", "cuda1"]);
        Assert.Equal(["cuda1", "cpu"], configured.Names);
        Assert.True(configured.Contains("cuda1"));
        Assert.False(configured.Contains("cuda0"));
        Assert.StartsWith("configuration", configured.Source);

        Assert.Equal(DeviceQueues.Detect().Names, DeviceQueues.Resolve([]).Names);
        var bad = Assert.Throws<ArgumentException>(() => DeviceQueues.Resolve(["GPU0"]));
        Assert.Contains("use 'cpu' or 'cudaN'", bad.Message);
    }
}
