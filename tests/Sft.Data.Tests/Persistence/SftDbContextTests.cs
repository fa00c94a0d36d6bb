using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;

namespace Sft.Data.Tests.Persistence;

public class SftDbContextTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sft-db-").FullName;

    SftDbContext Open() => new(new DbContextOptionsBuilder<SftDbContext>()
        .UseSqlite($"Data Source={Path.Combine(_dir, "app.db")}").Options);

    [Fact]
    public async Task Migrations_create_a_real_sqlite_file_that_round_trips_jobs_events_and_metrics()
    {
        await using (var db = Open())
        {
            await db.Database.MigrateAsync();
            var created = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.FromHours(2));
            db.Jobs.Add(new JobEntity { Id = "ftjob-b", Name = "second", ConfigYaml = "seed: 1", Status = JobStatus.Running, CreatedAt = created.AddMinutes(5) });
            db.Jobs.Add(new JobEntity { Id = "ftjob-a", Name = "first", ConfigYaml = "seed: 0", Status = JobStatus.Queued, CreatedAt = created });
            for (var step = 1; step <= 3; step++)
                db.MetricPoints.Add(new MetricPointEntity { JobId = "ftjob-a", Step = step, Name = "loss", Value = 3.0 / step, Time = created.AddSeconds(step) });
            db.JobEvents.Add(new JobEventEntity { JobId = "ftjob-a", Level = "info", Type = "message", Message = "started", Time = created });
            db.Checkpoints.Add(new CheckpointEntity { JobId = "ftjob-a", Step = 3, Path = "jobs/ftjob-a/checkpoints/step-3", Kind = CheckpointKindEntity.Adapter, SizeBytes = 1234, CreatedAt = created });
            db.ApiKeys.Add(new ApiKeyEntity { Name = "ci", Prefix = "sft_abcd", Hash = "h1", CreatedAt = created });
            await db.SaveChangesAsync();
        }
        Assert.True(File.Exists(Path.Combine(_dir, "app.db")));

        await using (var db = Open())
        {
            var ordered = await db.Jobs.OrderByDescending(j => j.CreatedAt).Select(j => j.Id).ToListAsync();
            Assert.Equal(["ftjob-b", "ftjob-a"], ordered);
            var queued = await db.Jobs.SingleAsync(j => j.Status == JobStatus.Queued);
            Assert.Equal(TimeSpan.Zero, queued.CreatedAt.Offset);                       // stored as UTC
            Assert.Equal(new DateTimeOffset(2026, 11, 28, 10, 0, 0, TimeSpan.Zero), queued.CreatedAt);
            var losses = await db.MetricPoints.Where(m => m.JobId == "ftjob-a" && m.Name == "loss" && m.Step >= 2)
                .OrderBy(m => m.Step).Select(m => m.Value).ToListAsync();
            Assert.Equal([1.5, 1.0], losses);
            Assert.Equal(CheckpointKindEntity.Adapter, (await db.Checkpoints.SingleAsync()).Kind);
            db.ApiKeys.Add(new ApiKeyEntity { Name = "dup", Prefix = "sft_x", Hash = "h1" });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());   // hashes are unique
        }
    }

    [Fact]
    public void Status_names_are_those_of_the_openai_api()
    {
        Assert.Equal("validating_files", JobStatus.ValidatingFiles.ToApi());
        Assert.True(JobStatusNames.TryParse("cancelled", out var s) && s == JobStatus.Cancelled);
        Assert.False(JobStatusNames.TryParse("Cancelled", out _));
        Assert.True(JobStatus.Failed.IsFinished());
        Assert.False(JobStatus.Running.IsFinished());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
