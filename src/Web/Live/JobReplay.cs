using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Web.Api.Models;

namespace Sft.Web.Live;

/// <summary>What a live client missed: the stored points after a step (in pages), the checkpoints after it and
/// the job's progress, as <see cref="MetricsMessage"/>s marked <c>replay</c>.</summary>
public static class JobReplay
{
    public const int PageSize = 5000;

    public static async IAsyncEnumerable<MetricsMessage> ReadAsync(
        IDbContextFactory<SftDbContext> dbFactory, string jobId, long afterStep, [EnumeratorCancellation] CancellationToken ct)
    {
        var since = afterStep;
        var first = true;
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var rows = await db.MetricPoints.AsNoTracking()
                .Where(p => p.JobId == jobId && p.Step > since)
                .OrderBy(p => p.Step).ThenBy(p => p.Id)
                .Take(PageSize + 1).ToListAsync(ct);
            var (page, more) = MetricPaging.WholeSteps(rows, PageSize);
            IReadOnlyList<CheckpointDto> checkpoints = [];
            JobProgressDto? progress = null;
            if (first)
            {
                checkpoints = (await db.Checkpoints.AsNoTracking().Where(c => c.JobId == jobId && c.Step > afterStep)
                    .OrderBy(c => c.Step).ToListAsync(ct)).Select(c => CheckpointDto.From(c)).ToList();
                progress = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId)
                    .Select(j => new JobProgressDto(j.CurrentStep, j.TotalSteps, j.LastLoss, j.LastEvalLoss, j.TokensPerSecond, j.EtaSeconds))
                    .FirstOrDefaultAsync(ct);
            }
            yield return new MetricsMessage(jobId, page.Select(MetricPointDto.From).ToList(), [], checkpoints, progress, null, Replay: true);
            if (!more) yield break;
            since = page[^1].Step;
            first = false;
        }
    }
}
