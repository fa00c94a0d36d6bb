using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Config;
using Sft.Training.Config.Yaml;
using Sft.Web.Live;

namespace Sft.Web.Jobs;

/// <summary>
/// The one place jobs are created and steered (the REST API and the UI both come here): validate, submit (store the
/// row, enqueue on the device queue), cancel, resume, clone.
/// </summary>
public sealed class JobService(
    IDbContextFactory<SftDbContext> dbFactory, IBackgroundJobClient queue, JobConfigs configs, JobStatusService statuses,
    RunningJobs running, TimeProvider clock, ILogger<JobService> log)
{
    /// <summary>Validates a config as a job would run it (output_dir forced into the data folder); stores nothing.</summary>
    public Task<ValidationResult> ValidateAsync(string yaml, IReadOnlyList<string>? overrides = null, CancellationToken ct = default) =>
        Task.Run(() => Load(JobIds.New(), yaml, overrides ?? []).Load.Validation, ct);

    /// <summary>Validates, then stores the job (status <c>queued</c>) and enqueues it on its device queue. A config with
    /// errors stores and queues nothing.</summary>
    public async Task<JobSubmitResult> SubmitAsync(JobSubmission submission, CancellationToken ct = default)
    {
        var id = JobIds.New();
        var overrides = new List<string>(submission.Overrides ?? []);
        if (submission.DatasetUpload is { } upload) overrides.Add($"train_dataset.data_loader.path={upload.FullPath}");
        var (load, queue) = await Task.Run(() => Load(id, submission.ConfigYaml, overrides), ct);
        if (!load.IsValid) return new JobSubmitResult(null, load.Validation);
        var config = load.Config!;

        await configs.WriteOverridesAsync(id, overrides, ct);
        var job = new JobEntity
        {
            Id = id,
            Name = string.IsNullOrWhiteSpace(submission.Name) ? DefaultName(config) : submission.Name.Trim(),
            Status = JobStatus.Queued,
            ConfigYaml = submission.ConfigYaml,
            ResolvedConfigJson = JobConfigs.ToJson(config),
            Method = config.IsLora ? "lora" : "full",
            BaseModel = config.Model.Source,
            Dataset = submission.DatasetUpload?.StoredPath ?? config.TrainData.Spec.Path,
            Device = queue,
            OutputDir = configs.OutputDir(id),
            CreatedAt = clock.GetUtcNow(),
            CreatedBy = submission.CreatedBy,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Jobs.Add(job);
            await db.SaveChangesAsync(ct);
        }
        job.BackgroundJobId = await EnqueueAsync(id, queue, ct);
        log.LogInformation("Job {JobId} queued on {Queue}: {Method} fine-tuning of {Model}", id, queue, job.Method, job.BaseModel);
        return new JobSubmitResult(job, load.Validation);
    }

    /// <summary>A queued job is cancelled at once; a running one is asked to stop at its next step (it saves a checkpoint
    /// and ends <c>cancelled</c>).</summary>
    public async Task<JobActionResult> CancelAsync(string id, CancellationToken ct = default)
    {
        if (JobIds.Check(id) is { } bad) return JobActionResult.Refused(400, "invalid_id", bad);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FindAsync([id], ct);
        if (job == null) return NotFound(id);
        switch (job.Status)
        {
            case JobStatus.Queued or JobStatus.ValidatingFiles or JobStatus.Paused:
                if (job.BackgroundJobId != null) queue.Delete(job.BackgroundJobId);
                if (running.Cancel(id)) return await RequestStopAsync(db, job, ct);   // picked up between the read and now
                return new JobActionResult(await statuses.SetStatusAsync(id, JobStatus.Cancelled, ct: ct), null);
            case JobStatus.Running:
                return await RequestStopAsync(db, job, ct);
            default:
                return JobActionResult.Refused(409, "job_finished", $"Job {id} is already {job.Status.ToApi()}; only queued or running jobs can be cancelled.");
        }
    }

    async Task<JobActionResult> RequestStopAsync(SftDbContext db, JobEntity job, CancellationToken ct)
    {
        job.CancelRequested = true;
        await db.SaveChangesAsync(ct);
        // This process stops it at once; on another node, deleting the Hangfire job fires its token there.
        if (!running.Cancel(job.Id) && job.BackgroundJobId != null) queue.Delete(job.BackgroundJobId);
        return new JobActionResult(job, null);
    }

    /// <summary>A cancelled or failed job goes back to the queue and continues from its newest complete checkpoint.</summary>
    public async Task<JobActionResult> ResumeAsync(string id, CancellationToken ct = default)
    {
        if (JobIds.Check(id) is { } bad) return JobActionResult.Refused(400, "invalid_id", bad);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FindAsync([id], ct);
        if (job == null) return NotFound(id);
        if (job.Status is not (JobStatus.Cancelled or JobStatus.Failed))
            return JobActionResult.Refused(409, "job_not_resumable", $"Job {id} is {job.Status.ToApi()}; only cancelled or failed jobs can be resumed.");
        if (running.IsRunning(id))
            return JobActionResult.Refused(409, "job_still_stopping", $"Job {id} is still saving its last step; resume it in a moment.");
        job.CancelRequested = false;
        await db.SaveChangesAsync(ct);
        var queued = await statuses.SetStatusAsync(id, JobStatus.Queued, ct: ct);
        queued!.BackgroundJobId = await EnqueueAsync(id, job.Device ?? "cpu", ct);
        return new JobActionResult(queued, null);
    }

    /// <summary>A new job from an existing one's config (or an edited one) and overrides; validated like a submit.</summary>
    public async Task<JobActionResult> CloneAsync(string id, string? yaml = null, string? name = null, string? createdBy = null, CancellationToken ct = default)
    {
        if (JobIds.Check(id) is { } bad) return JobActionResult.Refused(400, "invalid_id", bad);
        JobEntity? source;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            source = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
        if (source == null) return NotFound(id);
        var overrides = await configs.ReadOverridesAsync(id, ct);
        var result = await SubmitAsync(new JobSubmission(yaml ?? source.ConfigYaml, name ?? $"{source.Name} (copy)", overrides, null, createdBy), ct);
        if (result.Job == null) return new JobActionResult(null, null, result.Validation);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Jobs.Where(j => j.Id == result.Job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.ClonedFrom, id), ct);
            result.Job.ClonedFrom = id;
        }
        return new JobActionResult(result.Job, null, result.Validation);
    }

    (ConfigLoadResult Load, string Queue) Load(string id, string yaml, IReadOnlyList<string> overrides) =>
        configs.LoadForQueue(id, yaml, overrides);

    async Task<string> EnqueueAsync(string id, string queueName, CancellationToken ct)
    {
        var backgroundId = queue.Create<JobRunner>(runner => runner.RunAsync(id, CancellationToken.None), new EnqueuedState(queueName));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Jobs.Where(j => j.Id == id).ExecuteUpdateAsync(s => s.SetProperty(j => j.BackgroundJobId, backgroundId), ct);
        return backgroundId;
    }

    static string DefaultName(TrainConfig config) =>
        $"{(config.IsLora ? "LoRA" : "full")} fine-tuning of {Path.GetFileName(config.Model.Source.TrimEnd('/', '\\'))}";

    static JobActionResult NotFound(string id) => JobActionResult.Refused(404, "not_found", $"No job '{id}'.");
}
