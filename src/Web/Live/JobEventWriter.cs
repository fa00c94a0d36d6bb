using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sft.Data.Persistence;
using Sft.Training.Engine;
using Sft.Web.Storage;

namespace Sft.Web.Live;

/// <summary>How the event writer batches (section <c>Sft:Events</c>).</summary>
public sealed class JobEventWriterOptions
{
    public const string Section = "Sft:Events";

    /// <summary>The longest an event waits in memory before its batch is written (and pushed live).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A batch is written as soon as it holds this many events.</summary>
    public int MaxBatch { get; set; } = 500;
}

/// <summary>
/// Takes training events from any number of jobs (through <see cref="JobEventSink"/>s: enqueueing never blocks the
/// training thread), writes them to the database in batches, then publishes each batch on the <see cref="JobNotifier"/>.
/// At shutdown it stops taking events and writes what it holds; register it before the job queue so that it
/// stops after the jobs have written their last checkpoint.
/// </summary>
public sealed class JobEventWriter(
    IDbContextFactory<SftDbContext> dbFactory, DataFolder folder, JobNotifier notifier,
    IOptions<JobEventWriterOptions> options, ILogger<JobEventWriter> log) : BackgroundService
{
    readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    long _dropped;

    /// <summary>A sink for one job's trainer.</summary>
    public JobEventSink SinkFor(string jobId) => new(jobId, this);

    /// <summary>Queues one event; false (and counted) when the writer has already shut down.</summary>
    public bool Enqueue(string jobId, TrainingEvent trainingEvent)
    {
        if (_queue.Writer.TryWrite(new JobEventItem(jobId, trainingEvent))) return true;
        if (Interlocked.Increment(ref _dropped) == 1)
            log.LogWarning("Training events of job {JobId} arrived after the event writer stopped; they are not stored", jobId);
        return false;
    }

    /// <summary>Completes when everything queued before the call is in the database (e.g. before a job is marked finished).</summary>
    public Task FlushAsync(CancellationToken ct = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(done)) return Task.CompletedTask;
        return done.Task.WaitAsync(ct);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();            // take no more; ExecuteAsync drains what is queued and ends
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _queue.Reader;
        var batch = new List<JobEventItem>();
        var flushes = new List<TaskCompletionSource>();
        var settings = options.Value;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            var deadline = DateTime.UtcNow + settings.FlushInterval;
            while (true)
            {
                while (batch.Count < settings.MaxBatch && flushes.Count == 0 && reader.TryRead(out var item))
                {
                    if (item is TaskCompletionSource flush) flushes.Add(flush);
                    else batch.Add((JobEventItem)item);
                }
                if (batch.Count >= settings.MaxBatch || flushes.Count > 0 || stoppingToken.IsCancellationRequested) break;
                var wait = deadline - DateTime.UtcNow;
                if (wait <= TimeSpan.Zero) break;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(wait);
                try
                {
                    if (!await reader.WaitToReadAsync(timeout.Token)) break;
                }
                catch (OperationCanceledException) { break; }
            }
            await WriteAsync(batch, flushes);
            batch.Clear();
            flushes.Clear();
        }
    }

    async Task WriteAsync(List<JobEventItem> batch, List<TaskCompletionSource> flushes)
    {
        try
        {
            if (batch.Count > 0)
            {
                List<Api.Models.MetricsMessage> messages;
                await using (var db = await dbFactory.CreateDbContextAsync())
                    messages = await new EventBatchWriter(db, folder).WriteAsync(batch, CancellationToken.None);
                foreach (var message in messages) notifier.Publish(message);
            }
            foreach (var flush in flushes) flush.TrySetResult();
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            // One bad batch must not stop the writer (or the jobs feeding it): log it, fail the waiting flushes, go on.
            log.LogError(e, "Could not store {Count} training events (jobs {Jobs})", batch.Count,
                string.Join(", ", batch.Select(b => b.JobId).Distinct()));
            foreach (var flush in flushes) flush.TrySetException(e);
        }
    }
}
