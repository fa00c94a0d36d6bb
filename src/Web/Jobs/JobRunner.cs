using Hangfire;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Config;
using Sft.Training.Engine;
using Sft.Web.Api.Models;
using Sft.Web.Live;

namespace Sft.Web.Jobs;

/// <summary>
/// The Hangfire job that trains. It takes a job id only and is re-entrant: every run loads the config from the job
/// row and resumes from the job's newest complete checkpoint, so a run handed back after a crash (Hangfire's
/// invisibility timeout) continues where the dead process stopped and never starts again from step 0.
/// </summary>
public sealed class JobRunner(
    IDbContextFactory<SftDbContext> dbFactory, JobService jobs, JobStatusService status, JobEventWriter events,
    RunningJobs running, ILogger<JobRunner> log)
{
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 10)]
    public async Task RunAsync(string jobId, CancellationToken hangfireToken)
    {
        JobEntity? job;
        await using (var db = await dbFactory.CreateDbContextAsync(hangfireToken))
            job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, hangfireToken);
        if (job == null) { log.LogWarning("Job {JobId} is not in the database; nothing to run.", jobId); return; }
        if (job.Status.IsFinished() || job.CancelRequested)
        {
            if (job.CancelRequested && !job.Status.IsFinished()) await status.SetStatusAsync(jobId, JobStatus.Cancelled);
            return;
        }
        using var cancel = running.TryStart(jobId, hangfireToken);
        if (cancel == null) { log.LogWarning("Job {JobId} is already running in this process.", jobId); return; }
        try
        {
            await RunAsync(job, cancel.Token);
        }
        finally
        {
            running.Finish(jobId);
        }
    }

    async Task RunAsync(JobEntity job, CancellationToken ct)
    {
        var load = TrainConfigLoader.Load(job.ConfigYaml, jobs.LoadOptions(jobs.RunOverrides(job.Id, JobService.UserOverrides(job), resume: true)));
        if (!load.IsValid)
        {
            var first = load.Validation.Errors[0];
            await status.SetStatusAsync(job.Id, JobStatus.Failed, new JobErrorDto("invalid_config", first.ToString(), first.Path));
            return;
        }
        await status.SetStatusAsync(job.Id, JobStatus.Running);
        try
        {
            var result = await new Trainer(load.Config!, events.SinkFor(job.Id), job.ConfigYaml).RunAsync(ct);
            await events.FlushAsync();
            await status.SetStatusAsync(job.Id, result.Outcome == TrainingPhase.Succeeded ? JobStatus.Succeeded : JobStatus.Cancelled);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await events.FlushAsync();
            log.LogError(e, "Job {JobId} failed", job.Id);
            await status.SetStatusAsync(job.Id, JobStatus.Failed, new JobErrorDto(ErrorCode(e), e.Message, null));
        }
    }

    static string ErrorCode(Exception e) => e switch
    {
        InvalidDataException or FileNotFoundException or DirectoryNotFoundException => "invalid_input",
        OutOfMemoryException => "out_of_memory",
        _ => "training_error",
    };
}
