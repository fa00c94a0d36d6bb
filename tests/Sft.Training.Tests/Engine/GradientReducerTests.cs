using Sft.Training.Engine.Replicas;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Engine;

/// <summary>The host-copy reduction (the CPU and no-NCCL path) and which backend a set of devices gets.</summary>
public class GradientReducerTests
{
    static Parameter Weight(float value, float[]? grad)
    {
        var p = new Parameter(full(3, value));
        if (grad is not null) p.grad = tensor(grad);
        return p;
    }

    [Fact]
    public void Gradients_are_summed_into_the_primary_and_a_missing_gradient_counts_as_zero()
    {
        // Three replicas of two parameters; replica 2 had no rows (no gradients), replica 0 none for the second one.
        IReadOnlyList<IReadOnlyList<Parameter>> replicas =
        [
            [Weight(1, [1, 2, 3]), Weight(1, null)],
            [Weight(1, [10, 20, 30]), Weight(1, [0.5f, 0.25f, 1])],
            [Weight(1, null), Weight(1, [1, 1, 1])],
        ];
        using var reducer = new HostGradientReducer();

        reducer.SumGradientsIntoPrimary(replicas);

        Assert.Equal([11f, 22, 33], replicas[0][0].grad!.data<float>().ToArray());
        Assert.Equal([1.5f, 1.25f, 2], replicas[0][1].grad!.data<float>().ToArray());
        Assert.Equal([10f, 20, 30], replicas[1][0].grad!.data<float>().ToArray());   // the others keep theirs
        Assert.Null(replicas[2][0].grad);
    }

    [Fact]
    public void The_primarys_weights_are_copied_to_every_replica()
    {
        IReadOnlyList<IReadOnlyList<Parameter>> replicas = [[Weight(7, null)], [Weight(1, null)], [Weight(2, null)]];
        using var reducer = new HostGradientReducer();

        reducer.BroadcastFromPrimary(replicas);

        Assert.All(replicas, r => Assert.Equal([7f, 7, 7], r[0].data<float>().ToArray()));
    }

    [Fact]
    public void Cpu_replicas_reduce_through_the_host_and_never_load_nccl()
    {
        var sink = new RecordingSink();
        using var reducer = GradientReducers.For([CPU, CPU], sink);

        Assert.IsType<HostGradientReducer>(reducer);
        Assert.Empty(sink.Events);
    }

    [Fact]
    public void Without_nccl_the_reason_names_the_library_and_the_fix()
    {
        var nccl = Nccl.TryLoad(out var reason);

        if (nccl is null)
        {
            Assert.StartsWith("data parallel on CUDA needs NCCL (libnccl.so.2)", reason);
            Assert.Contains("LD_LIBRARY_PATH", reason);
        }
        else Assert.Null(reason);   // a machine with NCCL installed
    }
}
