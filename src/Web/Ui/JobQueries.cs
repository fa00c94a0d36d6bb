using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Web.Api.Models;
using Sft.Web.Live;

namespace Sft.Web.Ui;

/// <summary>What the dashboard reads about jobs: the filtered list, one job, its history, log tail and checkpoints.</summary>
public sealed class JobQueries(IDbContextFactory<SftDbContext> dbFactory)
{
    public const int MaxListed = 200;

    /// <summary>Newest first; <paramref name="status"/> null for all, <paramref name="text"/> matches id, name, model or dataset.</summary>
    public async Task<IReadOnlyList<JobEntity>> ListAsync(JobStatus? status = null, string? text = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.Jobs.AsNoTracking();
        if (status is { } wanted) query = query.Where(j => j.Status == wanted);
        if (!string.IsNullOrWhiteSpace(text))
        {
            var t = text.Trim();
            query = query.Where(j => j.Id.Contains(t) || j.Name.Contains(t)
                || (j.BaseModel != null && j.BaseModel.Contains(t)) || (j.Dataset != null && j.Dataset.Contains(t)));
        }
        return await query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Take(MaxListed).ToListAsync(ct);
    }

    public async Task<JobEntity?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
    }

    /// <summary>Every stored metric point of the job, in step order (read in whole-step pages).</summary>
    public async Task<IReadOnlyList<MetricPointDto>> HistoryAsync(string id, CancellationToken ct = default)
    {
        var points = new List<MetricPointDto>();
        await foreach (var page in JobReplay.ReadAsync(dbFactory, id, 0, ct)) points.AddRange(page.Points);
        return points;
    }

    /// <summary>Metric points of one metric for several jobs (the compare page).</summary>
    public async Task<IReadOnlyDictionary<string, List<(long Step, double Value)>>> MetricAsync(
        IReadOnlyList<string> jobIds, string metric, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.MetricPoints.AsNoTracking().Where(p => jobIds.Contains(p.JobId) && p.Name == metric)
            .OrderBy(p => p.Step).Select(p => new { p.JobId, p.Step, p.Value }).ToListAsync(ct);
        return jobIds.ToDictionary(id => id, id => rows.Where(r => r.JobId == id).Select(r => (r.Step, r.Value)).ToList());
    }

    /// <summary>The last <paramref name="count"/> events, oldest first.</summary>
    public async Task<IReadOnlyList<JobEventDto>> LogTailAsync(string id, int count = 200, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.JobEvents.AsNoTracking().Where(e => e.JobId == id && e.Type != "metrics")
            .OrderByDescending(e => e.Id).Take(count).ToListAsync(ct);
        rows.Reverse();
        return rows.Select(JobEventDto.From).ToList();
    }

    public async Task<IReadOnlyList<CheckpointDto>> CheckpointsAsync(string id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return (await db.Checkpoints.AsNoTracking().Where(c => c.JobId == id).OrderBy(c => c.Step).ToListAsync(ct))
            .Select(c => CheckpointDto.From(c)).ToList();
    }
}
