using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Engine.Replicas;

/// <summary>
/// Reduction between GPUs with NCCL: one communicator per replica's GPU (ncclCommInitAll, ranks in replica order),
/// gradients summed into rank 0 with ncclReduce and weights sent from rank 0 with ncclBroadcast, one group call
/// (ncclGroupStart/End) per parameter list so NCCL schedules all GPUs' parts together. Only for CUDA replicas on
/// distinct GPUs.
/// </summary>
public sealed class NcclGradientReducer : IGradientReducer
{
    readonly Nccl _nccl;
    readonly IntPtr[] _comms;

    public NcclGradientReducer(Nccl nccl, IReadOnlyList<Device> devices)
    {
        if (devices.Any(d => d.type != DeviceType.CUDA) || devices.Select(d => d.index).Distinct().Count() != devices.Count)
            throw new ArgumentException($"NCCL reduction needs one replica per distinct GPU; got {string.Join(", ", devices)}.");
        _nccl = nccl;
        _comms = nccl.InitAll(devices.Select(d => (int)d.index).ToList());
    }

    public string Name => "NCCL";

    public void SumGradientsIntoPrimary(IReadOnlyList<IReadOnlyList<Parameter>> replicas)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // Every rank must take part in each collective: a replica without rows this step sends zeros.
        var grads = replicas.Select(parameters => parameters.Select(p =>
        {
            if (p.grad is { } g) return g;
            p.grad = zeros_like(p);
            return p.grad!;
        }).ToList()).ToList();
        _nccl.GroupStart();
        try
        {
            for (var r = 0; r < replicas.Count; r++)
                foreach (var grad in grads[r]) _nccl.ReduceSum(grad, root: 0, _comms[r]);
        }
        finally { _nccl.GroupEnd(); }
    }

    public void BroadcastFromPrimary(IReadOnlyList<IReadOnlyList<Parameter>> replicas)
    {
        _nccl.GroupStart();
        try
        {
            for (var r = 0; r < replicas.Count; r++)
                foreach (var parameter in replicas[r]) _nccl.Broadcast(parameter, root: 0, _comms[r]);
        }
        finally { _nccl.GroupEnd(); }
    }

    public void Dispose()
    {
        foreach (var comm in _comms) _nccl.Destroy(comm);
    }
}
