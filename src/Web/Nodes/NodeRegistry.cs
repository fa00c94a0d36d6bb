using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sft.Data.Persistence;
using Sft.Web.Jobs;
using Sft.Web.Live;

namespace Sft.Web.Nodes;

/// <summary>A node as listed: its devices, each with the job it runs now, and whether it is online.</summary>
public sealed record NodeDevice(string Name, string? JobId, string? JobName);
public sealed record NodeView(string Name, string? Url, bool Online, DateTimeOffset StartedAt, DateTimeOffset LastSeenAt,
    IReadOnlyList<NodeDevice> Devices);

/// <summary>
/// The shared <c>nodes</c> table: this node's heartbeat (its device queues and address, rewritten every
/// <see cref="NodeOptions.HeartbeatInterval"/>), the list of nodes with the job each device runs, and the claim a run
/// makes on its job so that it never runs on two nodes at once.
/// </summary>
public sealed class NodeRegistry(
    IDbContextFactory<SftDbContext> dbFactory, NodeIdentity node, DeviceQueues devices, IOptions<NodeOptions> options,
    TimeProvider clock)
{
    readonly DateTimeOffset _startedAt = clock.GetUtcNow();

    public string Name => node.Name;

    /// <summary>True when a node last seen at <paramref name="lastSeen"/> still counts as online at <paramref name="now"/>.</summary>
    public static bool IsOnline(DateTimeOffset lastSeen, DateTimeOffset now, TimeSpan offlineAfter) => now - lastSeen <= offlineAfter;

    /// <summary>Writes this node's row: devices, address and a fresh heartbeat.</summary>
    public async Task BeatAsync(string? url, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var row = await db.Nodes.FindAsync([node.Name], ct);
        if (row == null)
        {
            row = new NodeEntity { Name = node.Name, Devices = "", StartedAt = _startedAt };
            db.Nodes.Add(row);
        }
        row.Devices = string.Join(',', devices.Names);
        row.Url = url ?? row.Url;
        row.StartedAt = _startedAt;
        row.LastSeenAt = now;
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException) when (db.Entry(row).State == EntityState.Added)
        {
            // Another process of the same name inserted first (a restart racing its predecessor): the next beat updates.
        }
    }

    /// <summary>Every node, online ones first, each device with the job running on it.</summary>
    public async Task<IReadOnlyList<NodeView>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var nodes = await db.Nodes.AsNoTracking().ToListAsync(ct);
        var running = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Running && j.Node != null)
            .Select(j => new { j.Id, j.Name, j.Node, j.Device }).ToListAsync(ct);
        var now = clock.GetUtcNow();
        return nodes
            .Select(n =>
            {
                var online = IsOnline(n.LastSeenAt, now, options.Value.OfflineAfter);
                var devices = n.Devices.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(d =>
                {
                    var job = online ? running.FirstOrDefault(j => j.Node == n.Name && (j.Device ?? "cpu") == d) : null;
                    return new NodeDevice(d, job?.Id, job?.Name);
                }).ToList();
                return new NodeView(n.Name, n.Url, online, n.StartedAt, n.LastSeenAt, devices);
            })
            .OrderByDescending(n => n.Online).ThenBy(n => n.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Claims <paramref name="jobId"/> for this node in one conditional update: it succeeds when no node runs the job
    /// (it is not <c>running</c>), when this node held it, or when the node that held it is offline (died mid-job).
    /// The claim also marks the job running, so a second delivery of the same job on another node finds it taken.
    /// </summary>
    public async Task<bool> TryClaimAsync(string jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var me = node.Name;
        var cutoff = clock.GetUtcNow() - options.Value.OfflineAfter;
        var claimed = await db.Jobs
            .Where(j => j.Id == jobId && (j.Status != JobStatus.Running || j.Node == null || j.Node == me
                || !db.Nodes.Any(n => n.Name == j.Node && n.LastSeenAt >= cutoff)))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Node, me).SetProperty(j => j.Status, JobStatus.Running), ct);
        if (claimed != 1) return false;
        db.JobEvents.Add(new JobEventEntity
        {
            JobId = jobId, Time = clock.GetUtcNow(), Level = "info", Type = "message", Message = $"Running on node {me}",
            DataJson = EventJson.Serialize(new { node = me, devices = devices.Names }),
        });
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>The node that holds <paramref name="jobId"/> now (null when none).</summary>
    public async Task<string?> HolderAsync(string jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Node).FirstOrDefaultAsync(ct);
    }
}
