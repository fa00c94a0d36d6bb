using System.Text.RegularExpressions;
using TorchSharp;

namespace Sft.Web.Jobs;

/// <summary>The queues of this server, one per device: <c>cpu</c> always, <c>cuda0</c>..<c>cudaN-1</c> for each GPU.
/// Each queue has exactly one worker, so two jobs never share a device.</summary>
public sealed partial class DeviceQueues
{
    public DeviceQueues(IReadOnlyList<string> names, string source)
    {
        if (names.Count == 0) throw new ArgumentException("At least one device queue is needed.", nameof(names));
        foreach (var name in names)
            if (!QueueName().IsMatch(name))
                throw new ArgumentException(
                    $"Sft:Queue:Devices: '{name}' is not a device queue name; use 'cpu' or 'cudaN' (cuda0, cuda1, ...).");
        Names = names;
        Source = source;
    }

    public const string Cpu = "cpu";

    public IReadOnlyList<string> Names { get; }

    /// <summary>How the list was found (configuration, detection, or why detection fell back to the CPU).</summary>
    public string Source { get; }

    public bool Contains(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>The configured list when there is one, else what TorchSharp sees.</summary>
    public static DeviceQueues Resolve(string[]? configured) =>
        configured is { Length: > 0 } ? new DeviceQueues(configured.Distinct().ToArray(), "configuration (Sft:Queue:Devices)") : Detect();

    public static DeviceQueues Detect()
    {
        try
        {
            var gpus = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
            return new DeviceQueues(["cpu", .. Enumerable.Range(0, gpus).Select(i => $"cuda{i}")],
                $"detected with TorchSharp ({gpus} CUDA device(s))");
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or InvalidOperationException)
        {
            return new DeviceQueues(["cpu"], $"CPU only: libtorch could not be loaded ({e.GetBaseException().Message})");
        }
    }

    [GeneratedRegex("^(cpu|cuda[0-9]+)$")]
    private static partial Regex QueueName();
}
