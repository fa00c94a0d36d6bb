using System.Text.Json.Serialization;
using System.Text.Json;
using Sft.Data.Persistence;

namespace Sft.Web.Api.Models;

/// <summary>A fine-tuning job as the API shows it (the OpenAI <c>fine_tuning.job</c> shape plus progress).</summary>
public sealed record JobDto(
    string Id, string Name, string Status, long CreatedAt, long? StartedAt, long? FinishedAt,
    string? Model, string? Method, string? TrainingFile, string? Device, int Attempts, long TrainedTokens,
    JobErrorDto? Error, JobProgressDto Progress, string? OutputDir, string? ClonedFrom, string? CreatedBy, string? Node)
{
    [JsonPropertyOrder(-1)]
    public string Object => "fine_tuning.job";

    public static JobDto From(JobEntity job) => new(
        job.Id, job.Name, job.Status.ToApi(), job.CreatedAt.ToUnixTimeSeconds(),
        job.StartedAt?.ToUnixTimeSeconds(), job.FinishedAt?.ToUnixTimeSeconds(),
        job.BaseModel, job.Method, job.Dataset, job.Device, job.Attempts, job.TrainedTokens,
        JobErrorDto.From(job), JobProgressDto.From(job), job.OutputDir, job.ClonedFrom, job.CreatedBy, job.Node);
}

/// <summary>Why a job failed: a code, a message, and the config key at fault when there is one.</summary>
public sealed record JobErrorDto(string Code, string Message, string? Param)
{
    public static JobErrorDto? From(JobEntity job) =>
        job.ErrorCode == null && job.ErrorMessage == null ? null
            : new JobErrorDto(job.ErrorCode ?? "error", job.ErrorMessage ?? "", job.ErrorParam);
}

public sealed record JobProgressDto(
    long CurrentStep, long TotalSteps, double? LastLoss, double? LastEvalLoss, double? TokensPerSecond, double? EtaSeconds)
{
    public double Fraction => TotalSteps > 0 ? Math.Min(1.0, (double)CurrentStep / TotalSteps) : 0;

    public static JobProgressDto From(JobEntity job) =>
        new(job.CurrentStep, job.TotalSteps, job.LastLoss, job.LastEvalLoss, job.TokensPerSecond, job.EtaSeconds);
}

/// <summary>A job event (<c>fine_tuning.job.event</c>): a log line, a step's metrics, a checkpoint, a status change.</summary>
public sealed record JobEventDto(string Id, long CreatedAt, string Level, string Type, string Message, JsonElement? Data)
{
    public const string IdPrefix = "ftevent-";
    [JsonPropertyOrder(-1)]
    public string Object => "fine_tuning.job.event";

    public static JobEventDto From(JobEventEntity e) => new(
        IdPrefix + e.Id, e.Time.ToUnixTimeSeconds(), e.Level, e.Type, e.Message,
        e.DataJson == null ? null : JsonDocument.Parse(e.DataJson).RootElement.Clone());
}

/// <summary>One value of one metric at one step; <see cref="TimeMs"/> is unix milliseconds.</summary>
public sealed record MetricPointDto(long Step, string Name, double Value, long TimeMs)
{
    public static MetricPointDto From(MetricPointEntity p) => new(p.Step, p.Name, p.Value, p.Time.ToUnixTimeMilliseconds());
}

/// <summary>A checkpoint of a job (<c>fine_tuning.job.checkpoint</c>); <see cref="Path"/> is relative to the data folder.</summary>
public sealed record CheckpointDto(
    string Id, long CreatedAt, string FineTuningJobId, long StepNumber, string Kind, long SizeBytes,
    JsonElement? Metrics, string Path, string DownloadUrl, IReadOnlyList<CheckpointFileDto>? Files = null)
{
    public const string IdPrefix = "ftckpt-";
    [JsonPropertyOrder(-1)]
    public string Object => "fine_tuning.job.checkpoint";

    public static CheckpointDto From(CheckpointEntity c, IReadOnlyList<CheckpointFileDto>? files = null) => new(
        IdPrefix + c.Id, c.CreatedAt.ToUnixTimeSeconds(), c.JobId, c.Step, c.Kind.ToString().ToLowerInvariant(), c.SizeBytes,
        c.MetricsJson == null ? null : JsonDocument.Parse(c.MetricsJson).RootElement.Clone(),
        c.Path, $"/api/v1/jobs/{Uri.EscapeDataString(c.JobId)}/checkpoints/{c.Step}/download", files);
}

/// <summary>A file of a checkpoint folder: its path inside the folder ('/' separated) and size.</summary>
public sealed record CheckpointFileDto(string Path, long Bytes, string Url);
