using System.Security.Cryptography;
using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Config;
using Sft.Training.Engine;
using Sft.Web.Api.Models;
using Sft.Web.Live;
using Sft.Web.Storage;

namespace Sft.Web.Jobs;

/// <summary>A job as the API or the dashboard submits it: the YAML as written and <c>--set</c>-style overrides.</summary>
public sealed record JobSubmission(string ConfigYaml, string? Name = null, IReadOnlyList<string>? Overrides = null);

/// <summary>The outcome of a submission: the stored job, or the validation that refused it (nothing stored or queued).</summary>
public sealed record SubmitResult(JobEntity? Job, ValidationResult Validation);

/// <summary>
/// The one place jobs are created and steered (REST API and dashboard alike): validate a config, store the job and
/// queue it on its device, cancel, resume, clone. Every job writes under <c>{data}/jobs/{id}/output</c>, whatever
/// output_dir the YAML names, so jobs never write outside the data folder and never share a checkpoint folder.
/// </summary>
public sealed class JobService(
    IDbContextFactory<SftDbContext> dbFactory, IBackgroundJobClient queue, DeviceQueues devices, DataFolder data,
    JobStatusService status, RunningJobs running, TimeProvider clock)
{
    /// <summary>Validates a config as a job of this server would run it (built-in names resolved, local devices known).</summary>
    public ConfigLoadResult Validate(string yaml, IReadOnlyList<string>? overrides = null) =>
        TrainConfigLoader.Load(yaml, LoadOptions([.. overrides ?? [], $"output_dir={data.PathOf("jobs", "validate", "output")}"]));

    public ConfigLoadOptions LoadOptions(IReadOnlyList<string> overrides) => new()
    {
        Overrides = overrides,
        BaseDirectory = data.Root,
        SourceName = "config.yaml",
        Builtins = new Builtins(data.Root),
        AvailableCudaDevices = devices.Names.Count(n => n.StartsWith("cuda", StringComparison.Ordinal)),
    };

    /// <summary>The overrides a job runs with: the user's, then the job's own output folder.</summary>
    public IReadOnlyList<string> RunOverrides(string jobId, IReadOnlyList<string> userOverrides, bool resume) =>
        [.. userOverrides, $"output_dir={OutputDir(jobId)}", $"resume_training={(resume ? "True" : "False")}"];

    public string OutputDir(string jobId) => data.PathOf("jobs", jobId, "output");

    public async Task<SubmitResult> SubmitAsync(JobSubmission submission, CancellationToken ct = default)
    {
        var id = NewId();
        var overrides = submission.Overrides ?? [];
        var load = TrainConfigLoader.Load(submission.ConfigYaml, LoadOptions(RunOverrides(id, overrides, resume: false)));
        if (!load.IsValid) return new SubmitResult(null, load.Validation);
        var config = load.Config!;
        var device = QueueFor(config.Run.Device);
        var job = new JobEntity
        {
            Id = id,
            Name = string.IsNullOrWhiteSpace(submission.Name) ? DefaultName(config) : submission.Name.Trim(),
            Status = JobStatus.Queued,
            ConfigYaml = submission.ConfigYaml,
            ResolvedConfigJson = JsonSerializer.Serialize(new { overrides, config = Describe(config) }),
            Method = config.IsLora ? "lora" : "full",
            BaseModel = config.Model.Source,
            Dataset = config.TrainData.Spec.Path,
            Device = device,
            OutputDir = data.ToStored(OutputDir(id)),
            CreatedAt = clock.GetUtcNow(),
            TotalSteps = config.Loop.MaxSteps ?? 0,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Jobs.Add(job);
            await db.SaveChangesAsync(ct);
        }
        await EnqueueAsync(job.Id, device, ct);
        return new SubmitResult(job, load.Validation);
    }

    /// <summary>Queued jobs are cancelled at once; a running one stops at its next step and saves it.</summary>
    public async Task<JobEntity?> CancelAsync(string id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FindAsync([id], ct);
        if (job == null) return null;
        if (job.Status.IsFinished()) return job;
        job.CancelRequested = true;
        await db.SaveChangesAsync(ct);
        if (running.Cancel(id)) return job;                         // the runner sets the status when it has saved
        if (job.BackgroundJobId is { } background) queue.Delete(background);
        return await status.SetStatusAsync(id, JobStatus.Cancelled, ct: ct);
    }

    /// <summary>A cancelled or failed job goes back to the queue and continues from its newest checkpoint.</summary>
    public async Task<(JobEntity? Job, string? Problem)> ResumeAsync(string id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FindAsync([id], ct);
        if (job == null) return (null, null);
        if (job.Status is not (JobStatus.Cancelled or JobStatus.Failed))
            return (job, $"Job '{id}' is {job.Status.ToApi()}; only cancelled or failed jobs can be resumed.");
        job.CancelRequested = false;
        job.Status = JobStatus.Queued;
        job.ErrorCode = job.ErrorMessage = job.ErrorParam = null;
        job.FinishedAt = null;
        await db.SaveChangesAsync(ct);
        await EnqueueAsync(id, job.Device ?? DeviceQueues.Cpu, ct);
        return (job, null);
    }

    /// <summary>A new job from an old one's config (optionally edited).</summary>
    public async Task<SubmitResult?> CloneAsync(string id, string? yaml = null, string? name = null, CancellationToken ct = default)
    {
        JobEntity? source;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            source = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
        if (source == null) return null;
        var result = await SubmitAsync(new JobSubmission(yaml ?? source.ConfigYaml, name ?? $"{source.Name} (clone)", UserOverrides(source)), ct);
        if (result.Job is { } clone)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.Jobs.FindAsync([clone.Id], ct);
            row!.ClonedFrom = id;
            await db.SaveChangesAsync(ct);
        }
        return result;
    }

    /// <summary>The overrides the job was submitted with.</summary>
    public static IReadOnlyList<string> UserOverrides(JobEntity job)
    {
        if (job.ResolvedConfigJson is null) return [];
        using var doc = JsonDocument.Parse(job.ResolvedConfigJson);
        return doc.RootElement.TryGetProperty("overrides", out var o) ? o.EnumerateArray().Select(e => e.GetString()!).ToList() : [];
    }

    async Task EnqueueAsync(string jobId, string device, CancellationToken ct)
    {
        var background = queue.Create<JobRunner>(runner => runner.RunAsync(jobId, CancellationToken.None), new EnqueuedState(device));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FindAsync([jobId], ct);
        job!.BackgroundJobId = background;
        await db.SaveChangesAsync(ct);
    }

    string QueueFor(DeviceSpec device) => device.Kind switch
    {
        DeviceKind.Cpu => DeviceQueues.Cpu,
        DeviceKind.Cuda => $"cuda{device.Index ?? 0}",
        _ => devices.Names.FirstOrDefault(n => n.StartsWith("cuda", StringComparison.Ordinal)) ?? DeviceQueues.Cpu,
    };

    static string NewId() => "ftjob-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    static string DefaultName(TrainConfig c) => $"{(c.IsLora ? "LoRA" : "Full")} {Path.GetFileName(c.Model.Source.TrimEnd('/'))}";

    static object Describe(TrainConfig c) => new
    {
        method = c.IsLora ? "lora" : "full",
        model = c.Model.Path,
        dtype = c.Model.ComputeDtype.ToString(),
        seq_length = c.Model.SeqLength,
        num_layers = c.Model.NumLayers,
        dataset = c.TrainData.Spec.Path,
        template = c.TrainData.Template,
        batch_size = c.Loop.BatchSize,
        gradient_accumulation_steps = c.Loop.GradientAccumulationSteps,
        epochs = c.Loop.Epochs,
        max_steps = c.Loop.MaxSteps,
        learning_rate = c.Optimizer.LearningRate,
        schedule = c.Schedule.Kind.ToString(),
        device = c.Run.Device.ToString(),
        lora = c.Lora is { } l ? new { r = l.Settings.Rank, alpha = l.Settings.Alpha, targets = l.Settings.Targets.Describe() } : null,
    };
}
