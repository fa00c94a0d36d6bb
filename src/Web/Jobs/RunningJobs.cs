using System.Collections.Concurrent;

namespace Sft.Web.Jobs;

/// <summary>
/// The jobs this process is training right now, each with the token that cancels it. It guards against running one
/// job twice at once (a second delivery finds it here and stands down) and lets a cancel stop a run at its next step
/// without waiting for Hangfire's cancellation check.
/// </summary>
public sealed class RunningJobs
{
    readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    /// <summary>Registers a run of <paramref name="jobId"/>; null when one is already running in this process.</summary>
    public CancellationTokenSource? TryStart(string jobId)
    {
        var cancel = new CancellationTokenSource();
        if (_running.TryAdd(jobId, cancel)) return cancel;
        cancel.Dispose();
        return null;
    }

    public void Finish(string jobId, CancellationTokenSource cancel)
    {
        _running.TryRemove(new KeyValuePair<string, CancellationTokenSource>(jobId, cancel));
        cancel.Dispose();
    }

    public bool IsRunning(string jobId) => _running.ContainsKey(jobId);

    /// <summary>Asks a run of this process to stop; false when the job is not running here.</summary>
    public bool Cancel(string jobId)
    {
        if (!_running.TryGetValue(jobId, out var cancel)) return false;
        try { cancel.Cancel(); }
        catch (ObjectDisposedException) { return false; }
        return true;
    }
}
