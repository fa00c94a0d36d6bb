using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Web.Api.Models;

namespace Sft.Web.Live;

/// <summary>Moves a job to a new status: the row (timestamps, attempts, error), a status event, and a live message.</summary>
public sealed class JobStatusService(IDbContextFactory<SftDbContext> dbFactory, JobNotifier notifier, TimeProvider clock)
{
    /// <summary>
    /// Sets the status. Entering <c>running</c> counts an attempt and stamps the start (the first time); a finished
    /// status stamps the end. Before marking a job finished, flush the <see cref="JobEventWriter"/> so its last
    /// metrics are stored first. Returns the updated row, or null when there is no such job.
    /// </summary>
    public async Task<JobEntity?> SetStatusAsync(string jobId, JobStatus status, JobErrorDto? error = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FindAsync([jobId], ct);
        if (job == null) return null;
        var now = clock.GetUtcNow();
        if (status == JobStatus.Running)
        {
            job.StartedAt ??= now;
            job.Attempts++;
            job.FinishedAt = null;
        }
        if (status.IsFinished()) job.FinishedAt = now;
        job.ErrorCode = error?.Code;
        job.ErrorMessage = error?.Message;
        job.ErrorParam = error?.Param;
        job.Status = status;

        var message = error == null ? $"Status: {status.ToApi()}" : $"Status: {status.ToApi()}: {error.Message}";
        db.JobEvents.Add(new JobEventEntity
        {
            JobId = jobId, Time = now, Level = status == JobStatus.Failed ? "error" : "info", Type = "status", Message = message,
            DataJson = EventJson.Serialize(new { status = status.ToApi(), error }),
        });
        await db.SaveChangesAsync(ct);
        notifier.Publish(new StatusMessage(jobId, status.ToApi(), error, now.ToUnixTimeMilliseconds()));
        return job;
    }
}
