using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Sft.Web.Nodes;

/// <summary>Registers this node at start (before the queue's workers run: hosted services start in order) and
/// writes its heartbeat every <see cref="NodeOptions.HeartbeatInterval"/> until the server stops. After each beat (or
/// failed beat) the <see cref="JobFence"/> stops local runs of jobs this node no longer holds.</summary>
public sealed class NodeHeartbeat(
    NodeRegistry registry, ClusterDevices cluster, JobFence fence, IServer server, IOptions<NodeOptions> options,
    ILogger<NodeHeartbeat> log)
    : IHostedService, IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    Task? _loop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await BeatAsync(null, cancellationToken);
        log.LogInformation("Node {Node} registered (heartbeat every {Interval})", registry.Name, options.Value.HeartbeatInterval);
        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await BeatAsync(Address(), ct);
                    await fence.BeatWrittenAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "Node {Node}: heartbeat failed; retrying at the next tick", registry.Name);
                    fence.BeatFailed();
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    async Task BeatAsync(string? address, CancellationToken ct)
    {
        await registry.BeatAsync(address, ct);
        var nodes = await registry.ListAsync(ct);
        cluster.Update(nodes.Where(n => n.Online).SelectMany(n => n.Devices.Select(d => d.Name)));
    }

    string? Address() => server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        if (_loop != null) await _loop.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
        await ValueTask.CompletedTask;
    }
}
