using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Sft.Data.Persistence;
using Sft.Web.Jobs;
using Sft.Web.Nodes;
using Sft.Web.Storage;

namespace Sft.Web.Tests.Nodes;

/// <summary>Split brain on one PostgreSQL database (a settable clock): a node whose heartbeat stalled while it trained
/// stops its local run once another node holds the job, or once it has written no beat for longer than OfflineAfter.</summary>
[Collection(PostgresCollection.Name)]
public class JobFenceTests(PostgresServer postgres)
{
    sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    static readonly NodeOptions Options = new() { HeartbeatInterval = TimeSpan.FromSeconds(10), OfflineAfter = TimeSpan.FromSeconds(30) };

    static NodeRegistry Node(IDbContextFactory<SftDbContext> db, string name, Clock clock) =>
        new(db, new NodeIdentity(name), new DeviceQueues(["cpu"], "test"), Microsoft.Extensions.Options.Options.Create(Options), clock);

    static JobFence Fence(NodeRegistry node, RunningJobs running, Clock clock) =>
        new(node, running, Microsoft.Extensions.Options.Options.Create(Options), clock, NullLogger<JobFence>.Instance);

    [Fact]
    public async Task A_node_whose_job_was_taken_over_stands_down_and_leaves_the_job_row_to_the_new_holder()
    {
        var db = await DatabaseAsync();
        var clock = new Clock(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var a = Node(db, "node-a", clock);
        var b = Node(db, "node-b", clock);
        var runningOnA = new RunningJobs();
        var fenceA = Fence(a, runningOnA, clock);
        await a.BeatAsync(null);
        await b.BeatAsync(null);
        await AddJobAsync(db, "ftjob-1");
        await AddJobAsync(db, "ftjob-2");

        Assert.True(await a.TryClaimAsync("ftjob-1"));             // a trains ftjob-1
        var run = runningOnA.TryStart("ftjob-1")!;
        runningOnA.MarkClaimed("ftjob-1");
        Assert.True(await b.TryClaimAsync("ftjob-2"));             // b trains ftjob-2; a has a delivery of it waiting
        var waiting = runningOnA.TryStart("ftjob-2")!;

        await fenceA.BeatWrittenAsync();
        Assert.False(run.IsCancellationRequested);                 // a holds its job: nothing stands down
        Assert.False(waiting.IsCancellationRequested);             // a delivery waiting for b to let go is no run to stop

        clock.Now = clock.Now.AddSeconds(31);                      // a stalls (process paused: no failed beat to notice), b keeps beating
        await b.BeatAsync(null);
        Assert.True(await b.TryClaimAsync("ftjob-1"));             // a counts as offline: b takes ftjob-1 over
        Assert.False(run.IsCancellationRequested);                 // split brain until a hears of it

        await a.BeatAsync(null);                                   // the database is back: a's next beat, then the fence
        await fenceA.BeatWrittenAsync();
        Assert.True(run.IsCancellationRequested);
        Assert.Equal(new StandDownReason("node-b"), runningOnA.StandDownOf("ftjob-1"));
        Assert.Null(runningOnA.StandDownOf("ftjob-2"));
        Assert.False(runningOnA.Cancel("ftjob-404"));

        await using var ctx = db.CreateDbContext();
        var job = await ctx.Jobs.AsNoTracking().SingleAsync(j => j.Id == "ftjob-1");
        Assert.Equal(("node-b", JobStatus.Running, false), (job.Node, job.Status, job.CancelRequested));
        runningOnA.Finish("ftjob-1", run);
        Assert.Null(runningOnA.StandDownOf("ftjob-1"));
    }

    [Fact]
    public async Task A_node_that_wrote_no_beat_for_longer_than_OfflineAfter_stands_down_its_runs()
    {
        var db = await DatabaseAsync();
        var clock = new Clock(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var a = Node(db, "node-a", clock);
        var runningOnA = new RunningJobs();
        var fenceA = Fence(a, runningOnA, clock);
        await a.BeatAsync(null);
        await AddJobAsync(db, "ftjob-3");
        Assert.True(await a.TryClaimAsync("ftjob-3"));
        var run = runningOnA.TryStart("ftjob-3")!;
        runningOnA.MarkClaimed("ftjob-3");
        await fenceA.BeatWrittenAsync();

        clock.Now = clock.Now.AddSeconds(30);
        fenceA.BeatFailed();                                       // silent 30 s: still online, keeps training
        Assert.False(run.IsCancellationRequested);
        clock.Now = clock.Now.AddSeconds(1);
        fenceA.BeatFailed();                                       // silent 31 s: another node may claim it now
        Assert.True(run.IsCancellationRequested);
        Assert.Equal(new StandDownReason(null), runningOnA.StandDownOf("ftjob-3"));

        await using var ctx = db.CreateDbContext();
        var job = await ctx.Jobs.AsNoTracking().SingleAsync(j => j.Id == "ftjob-3");
        Assert.Equal(("node-a", JobStatus.Running), (job.Node, job.Status));     // untouched: whoever holds it decides
    }

    async Task<SftDbContextFactory> DatabaseAsync()
    {
        var factory = new SftDbContextFactory(DatabaseProvider.Postgres, await postgres.CreateDatabaseAsync());
        await using var db = factory.CreateDbContext();
        await DatabaseMigrator.MigrateAsync(db);
        return factory;
    }

    static async Task AddJobAsync(SftDbContextFactory db, string id)
    {
        await using var ctx = db.CreateDbContext();
        ctx.Jobs.Add(new JobEntity { Id = id, Name = id, ConfigYaml = "x: 1", Status = JobStatus.Queued, Device = "cpu", CreatedAt = DateTimeOffset.UtcNow });
        await ctx.SaveChangesAsync();
    }
}
