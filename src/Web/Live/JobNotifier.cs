using System.Threading.Channels;
using Sft.Web.Api.Models;

namespace Sft.Web.Live;

/// <summary>
/// In-process fan-out of job messages (metric batches after they are stored, status changes). Each subscriber
/// reads its own bounded channel, so a slow one never holds up the event writer: when it falls
/// <see cref="DefaultCapacity"/> messages behind, its oldest messages are dropped and counted.
/// </summary>
public sealed class JobNotifier
{
    public const int DefaultCapacity = 1024;
    readonly Lock _gate = new();
    JobSubscription[] _subscriptions = [];

    /// <summary>Messages about one job, or about all jobs when <paramref name="jobId"/> is null. Dispose to stop.</summary>
    public JobSubscription Subscribe(string? jobId, int capacity = DefaultCapacity)
    {
        var subscription = new JobSubscription(this, jobId, capacity);
        lock (_gate) _subscriptions = [.. _subscriptions, subscription];
        return subscription;
    }

    public void Publish(IJobMessage message)
    {
        foreach (var subscription in Volatile.Read(ref _subscriptions))
            if (subscription.JobId == null || subscription.JobId == message.JobId)
                subscription.Offer(message);
    }

    internal void Remove(JobSubscription subscription)
    {
        lock (_gate) _subscriptions = _subscriptions.Where(s => s != subscription).ToArray();
    }
}

public sealed class JobSubscription : IDisposable
{
    readonly JobNotifier _owner;
    readonly Channel<IJobMessage> _channel;
    long _dropped;

    internal JobSubscription(JobNotifier owner, string? jobId, int capacity)
    {
        _owner = owner;
        JobId = jobId;
        _channel = Channel.CreateBounded<IJobMessage>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public string? JobId { get; }
    public ChannelReader<IJobMessage> Reader => _channel.Reader;

    /// <summary>How many messages were dropped because this subscriber fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    internal void Offer(IJobMessage message) => _channel.Writer.TryWrite(message);

    public void Dispose()
    {
        _owner.Remove(this);
        _channel.Writer.TryComplete();
    }
}
