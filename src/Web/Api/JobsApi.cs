using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Web.Api.Models;
using Sft.Web.Live;

namespace Sft.Web.Api;

/// <summary>Reading jobs: the list, one job, its events, its metric points, and a live server-sent event stream.</summary>
public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/api/v1/jobs").WithTags("Jobs");
        jobs.MapGet("/", ListJobs).WithName(nameof(ListJobs)).WithSummary("List jobs, newest first (paging with after/limit, filter by status).");
        jobs.MapGet("/{id}", GetJob).WithName(nameof(GetJob)).WithSummary("One job with its progress.");
        jobs.MapGet("/{id}/events", ListEvents).WithName(nameof(ListEvents)).WithSummary("A job's events in order; continue with after=<last id>.");
        jobs.MapGet("/{id}/metrics", GetMetrics).WithName(nameof(GetMetrics)).WithSummary("A job's metric points after a step, whole steps per page.");
        jobs.MapGet("/{id}/stream", StreamJob).WithName(nameof(StreamJob))
            .WithSummary("Server-sent events: 'metrics' (missed points first, then live batches) and 'status'; ends when the job finishes.");
        return app;
    }

    public static async Task<Results<Ok<ListDto<JobDto>>, ProblemHttpResult>> ListJobs(
        SftDbContext db, [FromQuery] string? after, [FromQuery] int? limit, [FromQuery] string? status, CancellationToken ct)
    {
        if (!ApiProblems.TryLimit(limit, 20, 100, out var take, out var problem)) return problem!;
        var query = db.Jobs.AsNoTracking();
        if (status != null)
        {
            if (!JobStatusNames.TryParse(status, out var wanted))
                return ApiProblems.Invalid("status", $"Unknown status '{status}'; use one of: " +
                    string.Join(", ", Enum.GetValues<JobStatus>().Select(s => s.ToApi())) + ".");
            query = query.Where(j => j.Status == wanted);
        }
        if (after != null)
        {
            var cursor = await db.Jobs.AsNoTracking().Where(j => j.Id == after).Select(j => new { j.Id, j.CreatedAt }).FirstOrDefaultAsync(ct);
            if (cursor == null) return ApiProblems.Invalid("after", $"No job '{after}' to continue after.");
            query = query.Where(j => j.CreatedAt < cursor.CreatedAt || (j.CreatedAt == cursor.CreatedAt && string.Compare(j.Id, cursor.Id) < 0));
        }
        var rows = await query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(new ListDto<JobDto>(rows.Take(take).Select(JobDto.From).ToList(), rows.Count > take));
    }

    public static async Task<Results<Ok<JobDto>, ProblemHttpResult>> GetJob(SftDbContext db, string id, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
        return job == null ? ApiProblems.NotFound("job", id) : TypedResults.Ok(JobDto.From(job));
    }

    public static async Task<Results<Ok<ListDto<JobEventDto>>, ProblemHttpResult>> ListEvents(
        SftDbContext db, string id, [FromQuery] string? after, [FromQuery] int? limit, CancellationToken ct)
    {
        if (!ApiProblems.TryLimit(limit, 100, 1000, out var take, out var problem)) return problem!;
        long afterId = 0;
        if (after != null)
        {
            var digits = after.StartsWith(JobEventDto.IdPrefix, StringComparison.Ordinal) ? after[JobEventDto.IdPrefix.Length..] : after;
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out afterId))
                return ApiProblems.Invalid("after", $"after must be an event id such as '{JobEventDto.IdPrefix}42' (got '{after}').");
        }
        if (!await db.Jobs.AnyAsync(j => j.Id == id, ct)) return ApiProblems.NotFound("job", id);
        var rows = await db.JobEvents.AsNoTracking().Where(e => e.JobId == id && e.Id > afterId)
            .OrderBy(e => e.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(new ListDto<JobEventDto>(rows.Take(take).Select(JobEventDto.From).ToList(), rows.Count > take));
    }

    public static async Task<Results<Ok<ListDto<MetricPointDto>>, ProblemHttpResult>> GetMetrics(
        SftDbContext db, string id, [FromQuery(Name = "since_step")] long? sinceStep, [FromQuery] string? names,
        [FromQuery] int? limit, CancellationToken ct)
    {
        if (!ApiProblems.TryLimit(limit, 10_000, 100_000, out var take, out var problem)) return problem!;
        string[]? wanted = null;
        if (names != null)
        {
            wanted = names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (wanted.Length == 0) return ApiProblems.Invalid("names", "names is a comma-separated list of metric names, e.g. loss,eval_loss.");
        }
        if (!await db.Jobs.AnyAsync(j => j.Id == id, ct)) return ApiProblems.NotFound("job", id);
        var since = sinceStep ?? long.MinValue;
        var query = db.MetricPoints.AsNoTracking().Where(p => p.JobId == id && p.Step > since);
        if (wanted != null) query = query.Where(p => wanted.Contains(p.Name));
        var rows = await query.OrderBy(p => p.Step).ThenBy(p => p.Id).Take(take + 1).ToListAsync(ct);
        var (page, more) = MetricPaging.WholeSteps(rows, take);
        return TypedResults.Ok(new ListDto<MetricPointDto>(page.Select(MetricPointDto.From).ToList(), more));
    }

    public static async Task<Results<ServerSentEventsResult<object>, ProblemHttpResult>> StreamJob(
        IDbContextFactory<SftDbContext> dbFactory, JobNotifier notifier, string id,
        [FromQuery(Name = "after_step")] long? afterStep, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Jobs.AnyAsync(j => j.Id == id, ct)) return ApiProblems.NotFound("job", id);
        return TypedResults.ServerSentEvents(Stream(dbFactory, notifier, id, afterStep ?? long.MinValue, ct));
    }

    static async IAsyncEnumerable<SseItem<object>> Stream(
        IDbContextFactory<SftDbContext> dbFactory, JobNotifier notifier, string id, long afterStep,
        [EnumeratorCancellation] CancellationToken ct)
    {
        // Subscribe before reading what was missed, so nothing falls between the two.
        using var subscription = notifier.Subscribe(id);
        await foreach (var missed in JobReplay.ReadAsync(dbFactory, id, afterStep, ct))
            yield return new SseItem<object>(missed, JobsHubMethods.Metrics);

        StatusMessage current;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == id, ct);
            current = new StatusMessage(id, job.Status.ToApi(), JobErrorDto.From(job), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
        yield return new SseItem<object>(current, JobsHubMethods.Status);
        if (JobStatusNames.TryParse(current.Status, out var status) && status.IsFinished()) yield break;

        await foreach (var message in subscription.Reader.ReadAllAsync(ct))
        {
            if (message is StatusMessage changed)
            {
                yield return new SseItem<object>(changed, JobsHubMethods.Status);
                if (JobStatusNames.TryParse(changed.Status, out var s) && s.IsFinished()) yield break;
            }
            else yield return new SseItem<object>(message, JobsHubMethods.Metrics);
        }
    }
}

/// <summary>The event names shared by the SSE stream and the SignalR hub.</summary>
public static class JobsHubMethods
{
    public const string Metrics = "metrics";
    public const string Status = "status";
}
