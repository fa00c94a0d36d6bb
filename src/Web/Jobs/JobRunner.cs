using Hangfire;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Config;
using Sft.Training.Engine;
using Sft.Web.Api.Models;
using Microsoft.Extensions.Options;
using Sft.Web.Live;
using Sft.Web.Nodes;

namespace Sft.Web.Jobs;

/// <summary>
/// The Hangfire job that trains one job. It takes the id only and is re-entrant: every run rebuilds the config from the
/// stored YAML with <c>resume_training=True</c>, so a run handed out again after a crash (the job row still says
/// <c>running</c>) continues from the newest complete checkpoint and never restarts from step 0 when one exists.
/// A user's cancel ends it <c>cancelled</c>; a server shutdown leaves it queued for the next start.
/// </summary>
public sealed class JobRunner(
    IDbContextFactory<SftDbContext> dbFactory, JobConfigs configs, JobStatusService statuses, JobEventWriter events,
    RunningJobs running, DeviceLeases leases, NodeRegistry nodes, IOptions<NodeOptions> nodeOptions, ILogger<JobRunner> log)
{
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string jobId, CancellationToken ct)
    {
        var cancel = running.TryStart(jobId);
        if (cancel == null)
        {
            log.LogWarning("Job {JobId} is already running in this process; this delivery stands down", jobId);
            return;
        }
        try { await RunRegisteredAsync(jobId, cancel, ct); }
        finally { running.Finish(jobId, cancel); }
    }

    async Task RunRegisteredAsync(string jobId, CancellationTokenSource userCancel, CancellationToken hangfireToken)
    {
        JobEntity? job;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId);
        if (job == null || job.Status.IsFinished())
        {
            log.LogInformation("Job {JobId} is {Status}; nothing to run", jobId, job?.Status.ToApi() ?? "gone");
            return;
        }
        if (job.CancelRequested)
        {
            await statuses.SetStatusAsync(jobId, JobStatus.Cancelled);
            return;
        }
        if (!await ClaimAsync(jobId, hangfireToken)) return;
        if (job.Status == JobStatus.Running)
            log.LogWarning("Job {JobId} was left running by {Node}, which stopped; continuing from its newest checkpoint on {Here}",
                jobId, job.Node ?? "a server", nodes.Name);

        var config = await BuildConfigAsync(job);
        if (config == null) return;
        // A data-parallel job's other devices may be busy with jobs of their own queues: wait for them (queued meanwhile).
        using var devices = await leases.AcquireAsync(config.ReplicaDevices.Select(configs.QueueFor), hangfireToken);
        await statuses.SetStatusAsync(jobId, JobStatus.Running);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(userCancel.Token, hangfireToken);
        try
        {
            var result = await new Trainer(config, events.SinkFor(jobId), job.ConfigYaml).RunAsync(stop.Token);
            await events.FlushAsync();
            if (result.Outcome == TrainingPhase.Succeeded) await statuses.SetStatusAsync(jobId, JobStatus.Succeeded);
            else await StoppedAsync(jobId, userCancel.IsCancellationRequested);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await events.FlushAsync();
            await StoppedAsync(jobId, userCancel.IsCancellationRequested);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            log.LogError(e, "Job {JobId} failed", jobId);
            await events.FlushAsync();
            await statuses.SetStatusAsync(jobId, JobStatus.Failed, new JobErrorDto("training_failed", e.Message, null));
            throw;                                       // the Hangfire dashboard shows it failed too (never retried)
        }
    }

    /// <summary>
    /// Takes the job for this node (see <see cref="NodeRegistry.TryClaimAsync"/>). While another node that is online
    /// holds it running, this delivery (Hangfire handing the job out again while it runs) waits and keeps the job in the
    /// queue: if that node dies, its heartbeat stops and this one takes over; if it finishes, there is nothing to run.
    /// </summary>
    async Task<bool> ClaimAsync(string jobId, CancellationToken hangfireToken)
    {
        var waiting = false;
        while (!await nodes.TryClaimAsync(jobId, CancellationToken.None))
        {
            await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            {
                var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId);
                if (job == null || job.Status != JobStatus.Running) continue;       // finished or requeued: claim again
                if (!waiting) log.LogWarning("Job {JobId} is running on node {Node}; this delivery waits until it finishes or that node goes offline", jobId, job.Node);
                waiting = true;
            }
            await Task.Delay(nodeOptions.Value.HeartbeatInterval, hangfireToken);
        }
        return true;
    }

    /// <summary>The trainer stopped early and saved. A user's cancel (here or a delete of the Hangfire job) ends the job;
    /// a server shutdown puts it back in the queue, where the next start picks it up and resumes.</summary>
    async Task StoppedAsync(string jobId, bool cancelledHere)
    {
        bool requested;
        await using (var db = await dbFactory.CreateDbContextAsync())
            requested = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested).FirstAsync();
        if (cancelledHere || requested)
        {
            await statuses.SetStatusAsync(jobId, JobStatus.Cancelled);
            return;
        }
        await statuses.SetStatusAsync(jobId, JobStatus.Queued);
        throw new OperationCanceledException($"Job {jobId} stopped for a server shutdown; it resumes when a server starts again.");
    }

    /// <summary>The job's config as submitted, with its overrides, output_dir forced, resume always on, and the device
    /// pinned to its queue's when the config says auto. Invalid now (a file removed since submit): the job fails.</summary>
    async Task<TrainConfig?> BuildConfigAsync(JobEntity job)
    {
        var queue = job.Device ?? "cpu";
        var overrides = await configs.ReadOverridesAsync(job.Id, CancellationToken.None);
        var load = configs.Load(job.Id, job.ConfigYaml, overrides, "resume_training=True");
        if (load.IsValid && load.Config!.Run.Device.Kind == DeviceKind.Auto)
            load = configs.Load(job.Id, job.ConfigYaml, overrides, "resume_training=True", $"device={JobConfigs.DeviceOf(queue)}");
        if (load.IsValid) return load.Config;
        var first = load.Validation.Errors[0];
        await statuses.SetStatusAsync(job.Id, JobStatus.Failed,
            new JobErrorDto("invalid_config", $"The config is no longer valid: {first}", first.Path));
        return null;
    }
}
