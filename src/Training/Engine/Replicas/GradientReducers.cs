using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Engine.Replicas;

/// <summary>Picks the reduction backend for a set of replica devices: NCCL for replicas on distinct GPUs when
/// libnccl.so.2 loads, the host-copy fallback otherwise (CPU replicas, or GPUs without NCCL, with a warning).</summary>
public static class GradientReducers
{
    public static IGradientReducer For(IReadOnlyList<Device> devices, ITrainingEventSink events)
    {
        var gpus = devices.All(d => d.type == DeviceType.CUDA) && devices.Select(d => d.index).Distinct().Count() == devices.Count;
        if (devices.Count < 2 || !gpus) return new HostGradientReducer();
        if (Nccl.TryLoad(out var reason) is { } nccl) return new NcclGradientReducer(nccl, devices);
        events.Publish(new LogEvent(TrainingLogLevel.Warning, $"{reason} Falling back to copies through replica 0's GPU, which is slower."));
        return new HostGradientReducer();
    }
}
