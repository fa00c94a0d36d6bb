using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Web.Api;
using Sft.Web.Api.Models;
using Sft.Web.Live;

namespace Sft.Web.Hubs;

/// <summary>
/// Live job metrics at <c>/hubs/jobs</c>. A client calls <c>Join(jobId, afterStep)</c> and receives <c>metrics</c>
/// messages (first what it missed after <c>afterStep</c>, marked replay, then live batches at most 10 a second) and
/// <c>status</c> messages. On reconnect it joins again with the last step it has.
/// </summary>
[Authorize]
public sealed class JobsHub(IDbContextFactory<SftDbContext> dbFactory, TimeProvider clock) : Hub
{
    public const string Path = "/hubs/jobs";
    public const string MetricsMethod = JobsHubMethods.Metrics;
    public const string StatusMethod = JobsHubMethods.Status;

    public static string Group(string jobId) => "job-" + jobId;

    public async Task Join(string jobId, long afterStep)
    {
        JobEntity? job;
        await using (var db = await dbFactory.CreateDbContextAsync(Context.ConnectionAborted))
            job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, Context.ConnectionAborted);
        if (job == null) throw new HubException($"Job '{jobId}' was not found.");

        // Join first, then read: a batch stored in between arrives both ways (clients keep one point per name and step)
        // rather than not at all.
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(jobId), Context.ConnectionAborted);
        await foreach (var missed in JobReplay.ReadAsync(dbFactory, jobId, afterStep, Context.ConnectionAborted))
            await Clients.Caller.SendAsync(MetricsMethod, missed, Context.ConnectionAborted);
        await Clients.Caller.SendAsync(StatusMethod,
            new StatusMessage(jobId, job.Status.ToApi(), JobErrorDto.From(job), clock.GetUtcNow().ToUnixTimeMilliseconds()),
            Context.ConnectionAborted);
    }

    public Task Leave(string jobId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, Group(jobId));
}
