using System.Text.Json;
using System.Text.Json.Serialization;
using Sft.Training.Config;
using Sft.Training.Config.Yaml;
using Sft.Web.Nodes;
using Sft.Web.Storage;

namespace Sft.Web.Jobs;

/// <summary>
/// How a job's YAML becomes a <see cref="TrainConfig"/>, the same way at submit and at run time: relative paths are
/// relative to the data folder, <c>builtin:</c> names resolve under it, and <c>output_dir</c> is always forced to
/// <c>data/jobs/{id}/output</c> (a job never writes outside the data folder). Also where a job's files live and which
/// device queue a config runs on.
/// </summary>
public sealed class JobConfigs(DataFolder folder, DeviceQueues devices, ClusterDevices? cluster = null)
{
    static readonly JsonSerializerOptions ResolvedJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        ReferenceHandler = ReferenceHandler.IgnoreCycles,
    };

    public string JobDir(string id) => folder.PathOf("jobs", id);

    public string OutputDir(string id) => folder.PathOf("jobs", id, "output");

    /// <summary>The user's overrides of a job (and the uploaded dataset's path), kept beside its output so every run
    /// of the job rebuilds the same config.</summary>
    public string OverridesPath(string id) => Path.Combine(JobDir(id), "overrides.json");

    public ConfigLoadResult Load(string id, string yaml, IEnumerable<string> overrides, params string[] forced) =>
        TrainConfigLoader.Load(yaml, new ConfigLoadOptions
        {
            Overrides = [.. overrides, .. forced, $"output_dir={OutputDir(id)}"],
            BaseDirectory = folder.Root,
            SourceName = "config.yaml",
            AvailableCudaDevices = Queues.Count(n => n.StartsWith("cuda", StringComparison.Ordinal)),
            Builtins = new Builtins(folder.Root),
        });

    /// <summary>Loads a config as a submit does and finds its queue; a device this server has no queue for is an error
    /// at <c>device</c> (the queue is empty when the config is refused). The dashboard validates through this too.</summary>
    public (ConfigLoadResult Load, string Queue) LoadForQueue(string id, string yaml, IEnumerable<string> overrides)
    {
        var load = Load(id, yaml, overrides);
        if (!load.IsValid) return (load, "");
        var queue = QueueFor(load.Config!.Run.Device);
        // A data-parallel job runs on its first device's queue and leases the others (DeviceLeases); all must exist.
        var missing = load.Config.ReplicaDevices.Select(d => (Device: d, Queue: QueueFor(d))).FirstOrDefault(d => !Serves(d.Queue));
        if (missing.Queue == null) return (load, queue);
        var key = load.Config.ReplicaDevices.Count > 1 ? "devices" : "device";
        var issue = new ConfigIssue(IssueSeverity.Error, key, new SourcePosition("config.yaml", 1, 1),
            $"{key} '{missing.Device}' needs the queue '{missing.Queue}', which no online node has (they serve {string.Join(", ", Queues)}).",
            "use device: auto, or devices one of the nodes has.");
        return (new ConfigLoadResult(null, ValidationResult.From([issue, .. load.Validation.Warnings, .. load.Validation.Ignored], load.Validation.Memory)), "");
    }

    /// <summary>The queue a config runs on: <c>cpu</c>, <c>cudaN</c> for <c>cuda:N</c> (<c>cuda</c>: cuda0), and for
    /// <c>auto</c> the first GPU queue this server has, else <c>cpu</c>.</summary>
    public string QueueFor(DeviceSpec device) => device.Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Cuda => $"cuda{device.Index ?? 0}",
        _ => devices.Names.FirstOrDefault(n => n.StartsWith("cuda", StringComparison.Ordinal)) ?? "cpu",
    };

    /// <summary>The <c>device</c> value that pins a run to its queue's device (<c>cpu</c>, <c>cuda:N</c>).</summary>
    public static string DeviceOf(string queue) => queue == "cpu" ? "cpu" : "cuda:" + queue["cuda".Length..];

    /// <summary>True when this server or another online node (see <see cref="ClusterDevices"/>) serves the queue.</summary>
    public bool Serves(string queue) => devices.Contains(queue) || cluster?.Contains(queue) == true;

    /// <summary>This server's queues, then those only other online nodes serve.</summary>
    public IReadOnlyList<string> Queues =>
        cluster == null ? devices.Names : [.. devices.Names, .. cluster.Online.Where(q => !devices.Contains(q)).Order(StringComparer.Ordinal)];

    public async Task WriteOverridesAsync(string id, IReadOnlyList<string> overrides, CancellationToken ct)
    {
        Directory.CreateDirectory(JobDir(id));
        await File.WriteAllTextAsync(OverridesPath(id), JsonSerializer.Serialize(overrides), ct);
    }

    public async Task<IReadOnlyList<string>> ReadOverridesAsync(string id, CancellationToken ct) =>
        File.Exists(OverridesPath(id))
            ? JsonSerializer.Deserialize<List<string>>(await File.ReadAllTextAsync(OverridesPath(id), ct)) ?? []
            : [];

    /// <summary>The resolved config as JSON (snake_case), stored with the job for display.</summary>
    public static string ToJson(TrainConfig config) => JsonSerializer.Serialize(config, ResolvedJson);
}
