using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Engine.Replicas;

/// <summary>
/// The reduction every build can run: gradients are added into replica 0's with tensor ops (a device-to-device or
/// host copy when replicas live on different devices) and the updated weights are copied back the same way. Used
/// for CPU replicas and for GPUs when NCCL is missing. Summation order is fixed (replica 1, 2, ...), so a run is
/// reproducible.
/// </summary>
public sealed class HostGradientReducer : IGradientReducer
{
    public string Name => "host copy";

    public void SumGradientsIntoPrimary(IReadOnlyList<IReadOnlyList<Parameter>> replicas)
    {
        using var noGrad = no_grad();
        var primary = replicas[0];
        for (var j = 0; j < primary.Count; j++)
        {
            using var scope = NewDisposeScope();
            var target = primary[j];
            var sum = target.grad;
            for (var r = 1; r < replicas.Count; r++)
            {
                var grad = replicas[r][j].grad;
                if (grad is null) continue;
                var local = grad.device == target.device ? grad : grad.to(target.device);
                if (sum is null)
                {
                    // Replica 0 had no rows this step: its gradient starts as a copy of the first replica's that had.
                    // (The parameter keeps its own reference; the scope disposes only these handles.)
                    target.grad = local.clone();
                    sum = target.grad;
                }
                else sum.add_(local);
            }
        }
    }

    public void BroadcastFromPrimary(IReadOnlyList<IReadOnlyList<Parameter>> replicas)
    {
        using var noGrad = no_grad();
        for (var r = 1; r < replicas.Count; r++)
            for (var j = 0; j < replicas[0].Count; j++)
                replicas[r][j].copy_(replicas[0][j]);
    }

    public void Dispose() { }
}
