using System.Collections.Concurrent;

namespace Sft.Web.Jobs;

/// <summary>
/// The jobs this process is training right now, each with the token that cancels it. It guards against running one
/// job twice at once (a second delivery finds it here and stands down) and lets a cancel stop a run at its next step
/// without waiting for Hangfire's cancellation check. A node that no longer holds a job stops its run through
/// <see cref="StandDown"/>, which the runner tells apart from a user's cancel and from a shutdown.
/// </summary>
public sealed class RunningJobs
{
    sealed class Run(CancellationTokenSource cancel)
    {
        public CancellationTokenSource Cancel { get; } = cancel;
        public bool Claimed { get; set; }
        public StandDownReason? StandDown { get; set; }
    }

    readonly ConcurrentDictionary<string, Run> _running = new(StringComparer.Ordinal);

    /// <summary>Registers a run of <paramref name="jobId"/>; null when one is already running in this process.</summary>
    public CancellationTokenSource? TryStart(string jobId)
    {
        var cancel = new CancellationTokenSource();
        if (_running.TryAdd(jobId, new Run(cancel))) return cancel;
        cancel.Dispose();
        return null;
    }

    public void Finish(string jobId, CancellationTokenSource cancel)
    {
        if (_running.TryGetValue(jobId, out var run) && run.Cancel == cancel)
            _running.TryRemove(new KeyValuePair<string, Run>(jobId, run));
        cancel.Dispose();
    }

    public bool IsRunning(string jobId) => _running.ContainsKey(jobId);

    /// <summary>Notes that the run of <paramref name="jobId"/> holds its job's claim for this node (it is training, no
    /// longer waiting for another node to let go of it).</summary>
    public void MarkClaimed(string jobId)
    {
        if (_running.TryGetValue(jobId, out var run)) run.Claimed = true;
    }

    /// <summary>The ids of the jobs this process trains under its node's claim now.</summary>
    public IReadOnlyList<string> Claimed => [.. _running.Where(r => r.Value.Claimed).Select(r => r.Key)];

    /// <summary>Asks a run of this process to stop; false when the job is not running here.</summary>
    public bool Cancel(string jobId) => _running.TryGetValue(jobId, out var run) && TryCancel(run.Cancel);

    /// <summary>Stops a run of this process because this node no longer holds its job (see
    /// <see cref="StandDownReason"/>); false when the job is not running here or its run was stood down already.</summary>
    public bool StandDown(string jobId, StandDownReason reason)
    {
        if (!_running.TryGetValue(jobId, out var run) || run.StandDown != null) return false;
        run.StandDown = reason;
        return TryCancel(run.Cancel);
    }

    /// <summary>Why the run of <paramref name="jobId"/> was stood down; null when it was not (or is not running).</summary>
    public StandDownReason? StandDownOf(string jobId) => _running.TryGetValue(jobId, out var run) ? run.StandDown : null;

    static bool TryCancel(CancellationTokenSource cancel)
    {
        try { cancel.Cancel(); }
        catch (ObjectDisposedException) { return false; }
        return true;
    }
}

/// <summary>Why a node stopped running a job it had claimed: another node holds it now (<paramref name="Holder"/>), or
/// its heartbeat failed for longer than OfflineAfter (<paramref name="Holder"/> null: it cannot tell who holds it).</summary>
public sealed record StandDownReason(string? Holder);
