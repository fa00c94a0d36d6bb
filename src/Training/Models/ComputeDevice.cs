using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>Picks the device to compute on: CUDA when available (CUDA builds), the CPU otherwise.</summary>
public static class ComputeDevice
{
    /// <param name="name">null or "auto" (CUDA if available, else CPU), "cpu", "cuda" or "cuda:N".</param>
    public static Device Resolve(string? name = null)
    {
        name = name?.Trim().ToLowerInvariant();
        if (name is null or "" or "auto") return cuda.is_available() ? CUDA : CPU;
        if (name == "cpu") return CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException($"device '{name}': CUDA is not available in this build or on this machine; use 'cpu' or 'auto'.");
            var device = new Device(name);
            if (device.index >= cuda.device_count())
                throw new ArgumentException($"device '{name}': only {cuda.device_count()} CUDA device(s) present.");
            return device;
        }
        throw new ArgumentException($"device '{name}' is not recognised; use auto, cpu, cuda or cuda:N.");
    }
}
