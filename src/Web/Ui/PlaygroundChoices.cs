using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Web.Storage;

namespace Sft.Web.Ui;

/// <summary>A checkpoint the Playground can chat with: one saved step of a succeeded job, with the job's base model reference.</summary>
public sealed record CheckpointChoice(string Key, string Label, string Folder, string JobId, long Step, string Kind, string? BaseModel);

/// <summary>The checkpoints of succeeded jobs, newest job first and last step first within a job.</summary>
public sealed class PlaygroundChoices(IDbContextFactory<SftDbContext> dbFactory, DataFolder folder)
{
    public async Task<IReadOnlyList<CheckpointChoice>> CheckpointsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Succeeded)
            .Select(j => new { j.Id, j.Name, j.BaseModel, j.CreatedAt }).ToListAsync(ct);
        var ids = jobs.Select(j => j.Id).ToList();
        var checkpoints = await db.Checkpoints.AsNoTracking().Where(c => ids.Contains(c.JobId)).ToListAsync(ct);
        return jobs.OrderByDescending(j => j.CreatedAt)
            .SelectMany(j => checkpoints.Where(c => c.JobId == j.Id).OrderByDescending(c => c.Step).Select(c => new CheckpointChoice(
                $"{j.Id}/{c.Step}", $"{j.Name} · step {c.Step} ({c.Kind.ToString().ToLowerInvariant()})",
                Path.IsPathRooted(c.Path) ? c.Path : folder.PathOf(c.Path), j.Id, c.Step, c.Kind.ToString().ToLowerInvariant(), j.BaseModel)))
            .ToList();
    }
}
