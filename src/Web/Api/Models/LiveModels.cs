namespace Sft.Web.Api.Models;

/// <summary>A message about one job that the notifier fans out (to SignalR, SSE, Blazor components).</summary>
public interface IJobMessage
{
    string JobId { get; }
}

/// <summary>
/// New metric points and events of a job, as pushed live (SignalR <c>metrics</c>, SSE <c>metrics</c>).
/// <see cref="Replay"/> marks what a client missed, read from the database when it joined. When
/// <see cref="ReplacedFromStep"/> is set, a resumed run repeats steps from there: drop earlier points at or after it.
/// Live points may repeat replayed ones around the moment of joining; keep one point per (name, step).
/// </summary>
public sealed record MetricsMessage(
    string JobId, IReadOnlyList<MetricPointDto> Points, IReadOnlyList<JobEventDto> Events,
    IReadOnlyList<CheckpointDto> Checkpoints, JobProgressDto? Progress, long? ReplacedFromStep, bool Replay) : IJobMessage;

/// <summary>A job's status changed (SignalR <c>status</c>, SSE <c>status</c>).</summary>
public sealed record StatusMessage(string JobId, string Status, JobErrorDto? Error, long TimeMs) : IJobMessage;
