using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sft.Data.Persistence;
using Sft.Web.Jobs;
using Sft.Web.Nodes;
using Sft.Web.Storage;

namespace Sft.Web.Tests.Nodes;

/// <summary>Heartbeats, online/offline, and the job claim of two nodes on one PostgreSQL database (a settable clock).</summary>
[Collection(PostgresCollection.Name)]
public class NodeRegistryTests(PostgresServer postgres)
{
    sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    static readonly NodeOptions Options = new() { HeartbeatInterval = TimeSpan.FromSeconds(10), OfflineAfter = TimeSpan.FromSeconds(30) };

    static NodeRegistry Node(IDbContextFactory<SftDbContext> db, string name, Clock clock, params string[] devices) =>
        new(db, new NodeIdentity(name), new DeviceQueues(devices, "test"), Microsoft.Extensions.Options.Options.Create(Options), clock);

    async Task<SftDbContextFactory> DatabaseAsync()
    {
        var factory = new SftDbContextFactory(DatabaseProvider.Postgres, await postgres.CreateDatabaseAsync());
        await using var db = factory.CreateDbContext();
        await DatabaseMigrator.MigrateAsync(db);
        return factory;
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(30, true)]
    [InlineData(31, false)]
    public void A_node_is_offline_once_silent_longer_than_OfflineAfter(int silentSeconds, bool online)
    {
        var seen = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(online, NodeRegistry.IsOnline(seen, seen.AddSeconds(silentSeconds), TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Heartbeats_list_nodes_with_devices_and_the_job_each_runs_and_silence_makes_a_node_offline()
    {
        var db = await DatabaseAsync();
        var clock = new Clock(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var a = Node(db, "node-a", clock, "cpu", "cuda0");
        var b = Node(db, "node-b", clock, "cpu");
        await a.BeatAsync("http://127.0.0.1:5001");
        await b.BeatAsync(null);
        await AddJobAsync(db, "ftjob-1", JobStatus.Queued, device: "cuda0");
        Assert.True(await a.TryClaimAsync("ftjob-1"));

        var nodes = await b.ListAsync();
        Assert.Equal(["node-a", "node-b"], nodes.Select(n => n.Name));
        Assert.All(nodes, n => Assert.True(n.Online));
        Assert.Equal("http://127.0.0.1:5001", nodes[0].Url);
        Assert.Equal([("cpu", null), ("cuda0", "ftjob-1")], nodes[0].Devices.Select(d => (d.Name, d.JobId)));
        Assert.Equal([("cpu", (string?)null)], nodes[1].Devices.Select(d => (d.Name, d.JobId)));

        clock.Now = clock.Now.AddSeconds(25);
        await b.BeatAsync(null);                                 // b keeps beating, a falls silent
        clock.Now = clock.Now.AddSeconds(10);
        nodes = await b.ListAsync();
        Assert.Equal([("node-b", true), ("node-a", false)], nodes.Select(n => (n.Name, n.Online)));
        Assert.All(nodes[1].Devices, d => Assert.Null(d.JobId));   // an offline node runs nothing
        Assert.Equal(clock.Now.AddSeconds(-35), nodes[1].LastSeenAt);
    }

    [Fact]
    public async Task A_running_job_moves_only_when_its_node_has_gone_offline()
    {
        var db = await DatabaseAsync();
        var clock = new Clock(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var a = Node(db, "node-a", clock, "cpu");
        var b = Node(db, "node-b", clock, "cpu");
        await a.BeatAsync(null);
        await b.BeatAsync(null);
        await AddJobAsync(db, "ftjob-2", JobStatus.Queued);

        var claims = await Task.WhenAll(a.TryClaimAsync("ftjob-2"), b.TryClaimAsync("ftjob-2"));
        Assert.Equal(1, claims.Count(c => c));                    // two deliveries at once: exactly one wins
        var (winner, other) = claims[0] ? (a, b) : (b, a);
        Assert.Equal(winner.Name, await other.HolderAsync("ftjob-2"));
        Assert.True(await winner.TryClaimAsync("ftjob-2"));       // the holder may claim again (a redelivery to it)

        clock.Now = clock.Now.AddSeconds(20);
        await winner.BeatAsync(null);
        clock.Now = clock.Now.AddSeconds(20);
        Assert.False(await other.TryClaimAsync("ftjob-2"));       // silent 20 s: still online, still its job

        clock.Now = clock.Now.AddSeconds(11);
        Assert.True(await other.TryClaimAsync("ftjob-2"));        // silent 31 s: offline, the job moves
        await using var ctx = db.CreateDbContext();
        var job = await ctx.Jobs.SingleAsync(j => j.Id == "ftjob-2");
        Assert.Equal((other.Name, JobStatus.Running), (job.Node, job.Status));
        var nodesInEvents = await ctx.JobEvents.Where(e => e.JobId == "ftjob-2" && e.Message.StartsWith("Running on node "))
            .OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
        Assert.Equal([$"Running on node {winner.Name}", $"Running on node {winner.Name}", $"Running on node {other.Name}"], nodesInEvents);
    }

    [Fact]
    public async Task A_job_no_node_runs_can_be_claimed_by_any_node()
    {
        var db = await DatabaseAsync();
        var clock = new Clock(DateTimeOffset.UtcNow);
        var a = Node(db, "node-a", clock, "cpu");
        var b = Node(db, "node-b", clock, "cpu");
        await a.BeatAsync(null);
        await b.BeatAsync(null);
        await AddJobAsync(db, "ftjob-3", JobStatus.Queued, node: "node-a");     // ran on a before, requeued since
        Assert.True(await b.TryClaimAsync("ftjob-3"));
        Assert.False(await a.TryClaimAsync("ftjob-404"));
    }

    static async Task AddJobAsync(SftDbContextFactory db, string id, JobStatus status, string device = "cpu", string? node = null)
    {
        await using var ctx = db.CreateDbContext();
        ctx.Jobs.Add(new JobEntity { Id = id, Name = id, ConfigYaml = "x: 1", Status = status, Device = device, Node = node, CreatedAt = DateTimeOffset.UtcNow });
        await ctx.SaveChangesAsync();
    }
}
