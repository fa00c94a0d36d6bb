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
/// A user's cancel ends it <c>cancelled</c>; a server shutdown leaves it queued for the next start; a stand-down (this
/// node no longer holds the job, see <see cref="JobFence"/>) leaves the job's row to the node that holds it.
/// </summary>
public sealed class JobRunner(
    IDbContextFactory<SftDbContext> dbFactory, JobConfigs configs, JobStatusService statuses, JobEventWriter events,
    RunningJobs running, DeviceLeases leases, NodeRegistry nodes, IOptions<NodeOptions> nodeOptions, ILogger<JobRunner> log)
{
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(string jobId, CancellationToken ct)
    {
        bool again;
        do
        {
            var cancel = running.TryStart(jobId);
            if (cancel == null)
            {
                log.LogWarning("Job {JobId} is already running in this process; this delivery stands down", jobId);
                return;
            }
            try { again = await RunRegisteredAsync(jobId, cancel, ct); }
            finally { running.Finish(jobId, cancel); }
        } while (again);
    }

    /// <summary>Runs the job once; true when it stood down for a lost heartbeat and the job is still this node's (run it again).</summary>
    async Task<bool> RunRegisteredAsync(string jobId, CancellationTokenSource userCancel, CancellationToken hangfireToken)
    {
        JobEntity? job;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
            job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId);
        if (job == null || job.Status.IsFinished())
        {
            log.LogInformation("Job {JobId} is {Status}; nothing to run", jobId, job?.Status.ToApi() ?? "gone");
            return false;
        }
        if (job.CancelRequested)
        {
            await statuses.SetStatusAsync(jobId, JobStatus.Cancelled);
            return false;
        }
        if (!await ClaimAsync(jobId, hangfireToken)) return false;
        running.MarkClaimed(jobId);
        if (job.Status == JobStatus.Running)
            log.LogWarning("Job {JobId} was left running by {Node}, which stopped; continuing from its newest checkpoint on {Here}",
                jobId, job.Node ?? "a server", nodes.Name);

        var config = await BuildConfigAsync(job);
        if (config == null) return false;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(userCancel.Token, hangfireToken);
        IDisposable? devices = null;
        try
        {
            // A data-parallel job's other devices may be busy with jobs of their own queues: wait for them (a cancel
            // or a shutdown meanwhile ends the wait like a stop between steps).
            devices = await leases.AcquireAsync(config.ReplicaDevices.Select(configs.QueueFor), stop.Token);
            await statuses.SetStatusAsync(jobId, JobStatus.Running);
            var result = await new Trainer(config, events.SinkFor(jobId), job.ConfigYaml).RunAsync(stop.Token);
            if (result.Outcome != TrainingPhase.Succeeded || running.StandDownOf(jobId) != null)
                return await StoppedAsync(jobId, userCancel.IsCancellationRequested, hangfireToken);
            await events.FlushAsync();
            await statuses.SetStatusAsync(jobId, JobStatus.Succeeded);
            return false;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return await StoppedAsync(jobId, userCancel.IsCancellationRequested, hangfireToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            log.LogError(e, "Job {JobId} failed", jobId);
            await events.FlushAsync();
            await statuses.SetStatusAsync(jobId, JobStatus.Failed, new JobErrorDto("training_failed", e.Message, null));
            throw;                                       // the Hangfire dashboard shows it failed too (never retried)
        }
        finally { devices?.Dispose(); }
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

    /// <summary>The trainer stopped early and saved. A stand-down leaves the job to its holder (see <see cref="StoodDownAsync"/>);
    /// a user's cancel (here or a delete of the Hangfire job) ends the job; a server shutdown puts it back in the queue,
    /// where the next start picks it up and resumes. True when the job should run again here.</summary>
    async Task<bool> StoppedAsync(string jobId, bool cancelledHere, CancellationToken hangfireToken)
    {
        if (running.StandDownOf(jobId) is { } standDown) return await StoodDownAsync(jobId, standDown, hangfireToken);
        await events.FlushAsync();
        bool requested;
        await using (var db = await dbFactory.CreateDbContextAsync())
            requested = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested).FirstAsync();
        if (cancelledHere || requested)
        {
            await statuses.SetStatusAsync(jobId, JobStatus.Cancelled);
            return false;
        }
        await statuses.SetStatusAsync(jobId, JobStatus.Queued);
        throw new OperationCanceledException($"Job {jobId} stopped for a server shutdown; it resumes when a server starts again.");
    }

    /// <summary>
    /// The run stopped because this node no longer holds the job, or cannot prove it does: neither the job's status nor
    /// the queue is touched (the holder owns them). After a lost heartbeat (holder unknown) it waits until the database
    /// answers again: true (run again, from the checkpoint just saved) when the job is still this node's.
    /// </summary>
    async Task<bool> StoodDownAsync(string jobId, StandDownReason standDown, CancellationToken hangfireToken)
    {
        var holder = standDown.Holder ?? await HolderOnceReachableAsync(jobId, hangfireToken);
        if (holder == nodes.Name)
        {
            log.LogInformation("Job {JobId} is still held by {Node} after its heartbeat came back; resuming from its newest checkpoint", jobId, holder);
            return true;
        }
        if (holder == null) log.LogWarning("Job {JobId} is held by no node any more (gone or requeued); this node stands down", jobId);
        else log.LogWarning("Job {JobId} was taken over by node {Node}; this node stands down", jobId, holder);
        return false;
    }

    async Task<string?> HolderOnceReachableAsync(string jobId, CancellationToken hangfireToken)
    {
        while (true)
        {
            try { return await nodes.HolderAsync(jobId, hangfireToken); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogDebug(e, "Job {JobId}: the database does not answer yet; asking again in {Interval}", jobId, nodeOptions.Value.HeartbeatInterval);
            }
            await Task.Delay(nodeOptions.Value.HeartbeatInterval, hangfireToken);
        }
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
