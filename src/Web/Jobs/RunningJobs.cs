using System.Collections.Concurrent;

namespace Sft.Web.Jobs;

/// <summary>
/// The jobs this process is running, with the token source that stops each: a cancel reaches the trainer at its
/// next step at once instead of waiting for Hangfire's cancellation poll. Also the guard that one job never runs
/// twice at the same time in this process.
/// </summary>
public sealed class RunningJobs
{
    readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    /// <summary>Registers a run; null when the job is already running here.</summary>
    public CancellationTokenSource? TryStart(string jobId, CancellationToken hangfire)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(hangfire);
        if (_running.TryAdd(jobId, source)) return source;
        source.Dispose();
        return null;
    }

    public void Finish(string jobId)
    {
        if (_running.TryRemove(jobId, out var source)) source.Dispose();
    }

    /// <summary>Signals a running job to stop; false when it is not running in this process.</summary>
    public bool Cancel(string jobId)
    {
        if (!_running.TryGetValue(jobId, out var source)) return false;
        source.Cancel();
        return true;
    }

    public bool IsRunning(string jobId) => _running.ContainsKey(jobId);
}
