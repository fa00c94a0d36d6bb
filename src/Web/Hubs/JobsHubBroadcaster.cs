using Microsoft.AspNetCore.SignalR;
using Sft.Web.Api.Models;
using Sft.Web.Live;

namespace Sft.Web.Hubs;

/// <summary>
/// Forwards notifier messages to each job's SignalR group, at most one metrics message per job every
/// <see cref="MinInterval"/> (≤10 a second): the first goes out at once, what comes sooner is merged into the next.
/// Status changes go out at once, after any metrics held back for that job.
/// </summary>
public sealed class JobsHubBroadcaster(JobNotifier notifier, IHubContext<JobsHub> hub, ILogger<JobsHubBroadcaster> log) : BackgroundService
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);

    readonly Dictionary<string, PendingJob> _jobs = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = notifier.Subscribe(jobId: null, capacity: 16384);
        var reader = subscription.Reader;
        Task<bool>? wait = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            wait ??= reader.WaitToReadAsync(stoppingToken).AsTask();
            var due = _jobs.Values.Where(j => j.Metrics != null).Select(j => (DateTime?)(j.LastSent + MinInterval)).Min();
            var delay = due - DateTime.UtcNow;
            if (delay == null) await Task.WhenAny(wait);
            else if (delay > TimeSpan.Zero) await Task.WhenAny(wait, Task.Delay(delay.Value, stoppingToken));
            if (wait.IsCompleted)
            {
                if (wait.IsCanceled || !wait.Result) break;
                wait = null;
            }
            while (reader.TryRead(out var message)) await AcceptAsync(message, stoppingToken);
            await SendDueAsync(stoppingToken);
        }
    }

    async Task AcceptAsync(IJobMessage message, CancellationToken ct)
    {
        if (!_jobs.TryGetValue(message.JobId, out var job)) _jobs[message.JobId] = job = new PendingJob();
        switch (message)
        {
            case MetricsMessage metrics:
                job.Metrics = job.Metrics == null ? metrics : Merge(job.Metrics, metrics);
                break;
            case StatusMessage status:
                if (job.Metrics != null) await SendMetricsAsync(message.JobId, job, ct);
                await SendAsync(message.JobId, JobsHub.StatusMethod, status, ct);
                break;
        }
    }

    async Task SendDueAsync(CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        foreach (var (jobId, job) in _jobs)
            if (job.Metrics != null && now - job.LastSent >= MinInterval)
                await SendMetricsAsync(jobId, job, ct);
        // Forget jobs that have been quiet for a while.
        foreach (var stale in _jobs.Where(j => j.Value.Metrics == null && now - j.Value.LastSent > TimeSpan.FromMinutes(5)).Select(j => j.Key).ToList())
            _jobs.Remove(stale);
    }

    async Task SendMetricsAsync(string jobId, PendingJob job, CancellationToken ct)
    {
        var metrics = job.Metrics!;
        job.Metrics = null;
        job.LastSent = DateTime.UtcNow;
        await SendAsync(jobId, JobsHub.MetricsMethod, metrics, ct);
    }

    async Task SendAsync(string jobId, string method, object message, CancellationToken ct)
    {
        try { await hub.Clients.Group(JobsHub.Group(jobId)).SendAsync(method, message, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Could not push {Method} of job {JobId} to SignalR clients", method, jobId);
        }
    }

    /// <summary>Two batches as one; a later rewind drops the earlier batch's points it replaces.</summary>
    public static MetricsMessage Merge(MetricsMessage earlier, MetricsMessage later)
    {
        var points = later.ReplacedFromStep is { } from ? earlier.Points.Where(p => p.Step < from) : earlier.Points;
        var replaced = (earlier.ReplacedFromStep, later.ReplacedFromStep) switch
        {
            ({ } a, { } b) => Math.Min(a, b),
            (var a, var b) => a ?? b,
        };
        return new MetricsMessage(later.JobId, [.. points, .. later.Points], [.. earlier.Events, .. later.Events],
            [.. earlier.Checkpoints, .. later.Checkpoints], later.Progress ?? earlier.Progress, replaced, Replay: false);
    }

    sealed class PendingJob
    {
        public MetricsMessage? Metrics { get; set; }
        public DateTime LastSent { get; set; } = DateTime.MinValue;
    }
}
