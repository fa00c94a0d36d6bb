using Sft.Data.Persistence;

namespace Sft.Web.Live;

/// <summary>Pages of metric points end on a whole step, so a reader continuing with <c>since_step</c> = the last
/// step it got misses nothing.</summary>
public static class MetricPaging
{
    /// <param name="rows">up to <paramref name="limit"/> + 1 rows ordered by step</param>
    public static (List<MetricPointEntity> Page, bool HasMore) WholeSteps(List<MetricPointEntity> rows, int limit)
    {
        if (rows.Count <= limit) return (rows, false);
        var cutStep = rows[limit].Step;
        var page = rows.Take(limit).Where(p => p.Step < cutStep).ToList();
        // A single step with more points than the limit still comes whole rather than never.
        if (page.Count == 0) page = rows.Where(p => p.Step == cutStep).ToList();
        return (page, true);
    }
}
