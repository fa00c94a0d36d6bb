using TorchSharp.Modules;

namespace Sft.Training.Engine.Replicas;

/// <summary>
/// How data-parallel replicas agree. Replicas hold the same trainable parameters in the same order. After the
/// backward passes the primary (replica 0) gets the sum of every replica's gradients; after the primary's optimizer
/// step every other replica gets the primary's updated values. (Why one optimizer and a broadcast rather than one
/// AdamW per replica: see <see cref="ReplicaSet"/>.)
/// </summary>
public interface IGradientReducer : IDisposable
{
    /// <summary>Shown in the run's log ("host copy", "NCCL").</summary>
    string Name { get; }

    /// <summary>Sums each parameter's gradient over all replicas into replica 0's gradient. A replica without a
    /// gradient (it had no rows in this step) counts as zero. Other replicas' gradients are left as they were.</summary>
    void SumGradientsIntoPrimary(IReadOnlyList<IReadOnlyList<Parameter>> replicas);

    /// <summary>Copies replica 0's parameter values into every other replica.</summary>
    void BroadcastFromPrimary(IReadOnlyList<IReadOnlyList<Parameter>> replicas);
}
