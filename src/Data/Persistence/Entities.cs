namespace Sft.Data.Persistence;

/// <summary>Job statuses, named as in the OpenAI fine-tuning API.</summary>
public enum JobStatus { ValidatingFiles, Queued, Running, Succeeded, Failed, Cancelled, Paused }

public static class JobStatusNames
{
    public static string ToApi(this JobStatus status) => status switch
    {
        JobStatus.ValidatingFiles => "validating_files",
        JobStatus.Queued => "queued",
        JobStatus.Running => "running",
        JobStatus.Succeeded => "succeeded",
        JobStatus.Failed => "failed",
        JobStatus.Cancelled => "cancelled",
        JobStatus.Paused => "paused",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string value, out JobStatus status)
    {
        foreach (var s in Enum.GetValues<JobStatus>())
            if (s.ToApi() == value) { status = s; return true; }
        status = default;
        return false;
    }

    public static bool IsFinished(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>One fine-tuning job: the config as submitted, what it resolved to, and where it stands.</summary>
public sealed class JobEntity
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public JobStatus Status { get; set; }
    public required string ConfigYaml { get; set; }
    public string? ResolvedConfigJson { get; set; }
    public string? Method { get; set; }               // "full" or "lora"
    public string? BaseModel { get; set; }
    public string? Dataset { get; set; }
    public string? Device { get; set; }               // the queue it runs on: "cpu", "cuda0", ...
    public string? Node { get; set; }                 // the server node that runs (or last ran) it
    public string? OutputDir { get; set; }
    public string? ClonedFrom { get; set; }
    public string? BackgroundJobId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int Attempts { get; set; }
    public long CurrentStep { get; set; }
    public long TotalSteps { get; set; }
    public long TrainedTokens { get; set; }
    public double? LastLoss { get; set; }
    public double? LastEvalLoss { get; set; }
    public double? TokensPerSecond { get; set; }
    public double? EtaSeconds { get; set; }
    public string? ErrorCode { get; set; }
    public string? ErrorMessage { get; set; }
    public string? ErrorParam { get; set; }
    public bool CancelRequested { get; set; }
    public string? CreatedBy { get; set; }
}

/// <summary>A log line or structured message of a job, in order (<see cref="Id"/> is the cursor).</summary>
public sealed class JobEventEntity
{
    public long Id { get; set; }
    public required string JobId { get; set; }
    public DateTimeOffset Time { get; set; }
    public required string Level { get; set; }        // debug, info, warning, error
    public required string Type { get; set; }         // message, metrics, checkpoint, status
    public required string Message { get; set; }
    public string? DataJson { get; set; }
}

/// <summary>One value of one metric at one step (loss, lr, grad_norm, tokens_per_second, eval_loss, ...).</summary>
public sealed class MetricPointEntity
{
    public long Id { get; set; }
    public required string JobId { get; set; }
    public long Step { get; set; }
    public required string Name { get; set; }
    public double Value { get; set; }
    public DateTimeOffset Time { get; set; }
}

public enum CheckpointKindEntity { Full, Adapter, Merged, Emergency }

/// <summary>A complete checkpoint folder of a job.</summary>
public sealed class CheckpointEntity
{
    public long Id { get; set; }
    public required string JobId { get; set; }
    public long Step { get; set; }
    public required string Path { get; set; }
    public CheckpointKindEntity Kind { get; set; }
    public long SizeBytes { get; set; }
    public string? MetricsJson { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A dataset the server knows: built in, uploaded, or imported from the Hugging Face Hub.</summary>
public sealed class DatasetEntity
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public required string Source { get; set; }       // builtin, upload, hub
    public string? HubId { get; set; }
    public string? Revision { get; set; }
    public string? LocalPath { get; set; }
    public string? Format { get; set; }
    public long? Rows { get; set; }
    public long? SizeBytes { get; set; }
    public required string Status { get; set; }       // ready, importing, failed
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An API key: only its SHA-256 hash and a short prefix (to recognise it in lists) are stored.</summary>
public sealed class ApiKeyEntity
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public required string Prefix { get; set; }
    public required string Hash { get; set; }
    public bool IsAdmin { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A server process sharing the queue: its device queues and its heartbeat (offline once silent too long).</summary>
public sealed class NodeEntity
{
    public required string Name { get; set; }
    public required string Devices { get; set; }      // its device queues, comma separated: "cpu,cuda0"
    public string? Url { get; set; }                  // where it listens, as it says itself
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
}
