using Sft.Training.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

/// <summary>Turns a config's device (auto, cpu, cuda, cuda:N) into a torch device, checking it exists.</summary>
public static class DeviceSelector
{
    public static int CudaDeviceCount => cuda.is_available() ? cuda.device_count() : 0;

    public static Device Resolve(DeviceSpec spec)
    {
        var count = CudaDeviceCount;
        return spec.Kind switch
        {
            DeviceKind.Cpu => CPU,
            DeviceKind.Auto => count > 0 ? CUDA : CPU,
            _ when count == 0 => throw new InvalidOperationException(
                $"device '{spec}' asks for a GPU but CUDA is not available here (a CPU build of libtorch, or no NVIDIA driver). " +
                "Use device: auto or cpu, or run the CUDA build on a GPU host."),
            _ when spec.Index is { } i && i >= count => throw new InvalidOperationException(
                $"device '{spec}' does not exist: this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1})."),
            _ => new Device(DeviceType.CUDA, spec.Index ?? 0),
        };
    }
}
