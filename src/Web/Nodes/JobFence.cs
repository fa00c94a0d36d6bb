using Microsoft.Extensions.Options;
using Sft.Web.Jobs;

namespace Sft.Web.Nodes;

/// <summary>
/// Keeps a job from training on two nodes at once when this node's heartbeat stalls (a database outage): another node
/// may then claim its jobs after <see cref="NodeOptions.OfflineAfter"/>. <see cref="NodeHeartbeat"/> calls it after
/// every beat. After a beat it stands down each local run whose job another node holds now; after a failed beat, once
/// no beat has been written for longer than OfflineAfter, it stands down every local run (it can no longer prove it
/// holds them). <see cref="JobRunner"/> then stops the run without touching the job's row.
/// </summary>
public sealed class JobFence(
    NodeRegistry registry, RunningJobs running, IOptions<NodeOptions> options, TimeProvider clock, ILogger<JobFence> log)
{
    DateTimeOffset _lastBeat = clock.GetUtcNow();

    /// <summary>Call after a beat was written: stands down the local runs of jobs that another node holds now.</summary>
    public async Task BeatWrittenAsync(CancellationToken ct = default)
    {
        _lastBeat = clock.GetUtcNow();
        foreach (var jobId in running.Claimed)
        {
            var holder = await registry.HolderAsync(jobId, ct);
            if (holder != null && holder != registry.Name && running.StandDown(jobId, new StandDownReason(holder)))
                log.LogWarning("Job {JobId} is held by node {Node} now; stopping its run on {Here}", jobId, holder, registry.Name);
        }
    }

    /// <summary>Call after a beat failed: once none was written for longer than OfflineAfter, stands down every local run.</summary>
    public void BeatFailed()
    {
        var silent = clock.GetUtcNow() - _lastBeat;
        if (silent <= options.Value.OfflineAfter) return;
        foreach (var jobId in running.Claimed)
            if (running.StandDown(jobId, new StandDownReason(null)))
                log.LogWarning("Node {Node} has written no heartbeat for {Silent}: another node may take job {JobId}; stopping its run here",
                    registry.Name, silent, jobId);
    }
}
