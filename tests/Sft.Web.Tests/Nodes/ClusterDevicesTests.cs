using Sft.Training.Tests;
using Sft.Training.Tests.Engine;
using Sft.Web.Jobs;
using Sft.Web.Nodes;
using Sft.Web.Storage;

namespace Sft.Web.Tests.Nodes;

/// <summary>A CPU-only node accepts a job for a GPU that another online node serves, and refuses one no node has.</summary>
public class ClusterDevicesTests
{
    [Fact]
    public void A_job_may_ask_for_a_device_that_another_online_node_serves()
    {
        using var dir = new TempDir();
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference("qwen2_tied", "model"), TrainerFixtures.RandomDataset(dir.Path, rows: 8),
            dir["unused"], lr: 1e-3, maxSteps: 2);
        var folder = new DataFolder(dir["data"]);
        var cluster = new ClusterDevices();
        var configs = new JobConfigs(folder, new DeviceQueues(["cpu"], "test"), cluster);

        var refused = configs.LoadForQueue("ftjob-x", yaml, ["device=cuda:1"]);
        Assert.False(refused.Load.IsValid);
        Assert.Equal("device", refused.Load.Validation.Errors[0].Path);

        cluster.Update(["cpu", "cpu", "cuda0", "cuda1"]);                     // node b serves two GPUs
        var (load, queue) = configs.LoadForQueue("ftjob-x", yaml, ["device=cuda:1"]);
        Assert.True(load.IsValid, load.Validation.Format());
        Assert.Equal("cuda1", queue);
        Assert.Equal(["cpu", "cuda0", "cuda1"], configs.Queues);
        Assert.Equal("cpu", configs.LoadForQueue("ftjob-x", yaml, []).Queue);  // auto stays on this node's devices
    }
}
