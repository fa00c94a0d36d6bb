using Sft.Training.Generation;

namespace Sft.Web.Ui;

/// <summary>
/// The models the Playground chats with, loaded once and kept in a least-recently-used cache of at most
/// <see cref="Capacity"/>. An evicted model is disposed as soon as no generation uses it any more. Each generation runs
/// on its own thread (TorchSharp's grad mode and dispose scopes are per thread) and hands text pieces to a callback.
/// </summary>
public sealed class PlaygroundModels : IDisposable
{
    public const int Capacity = 2;

    sealed class Entry(InferenceSource source)
    {
        public readonly InferenceSource Source = source;
        public Task<InferenceModel>? Loading;
        public int Users;
        public bool Evicted;
    }

    readonly Lock _lock = new();
    readonly LinkedList<Entry> _recent = new();          // most recently used first
    readonly ILogger<PlaygroundModels> _log;
    bool _disposed;

    public PlaygroundModels(ILogger<PlaygroundModels> log) => _log = log;

    /// <summary>The sources now cached, most recently used first.</summary>
    public IReadOnlyList<InferenceSource> Cached
    {
        get { lock (_lock) return _recent.Select(e => e.Source).ToList(); }
    }

    /// <summary>
    /// Loads <paramref name="source"/> (or reuses it), then streams the reply to <paramref name="prompt"/> on a dedicated
    /// thread, calling <paramref name="onText"/> with each piece of text and waiting for it, so a slow page slows the
    /// generation instead of queueing text. Cancelling <paramref name="ct"/> stops after the current token.
    /// Loading and generation errors (missing folder, bad adapter, no tokenizer) come back as the task's exception.
    /// </summary>
    public async Task GenerateAsync(InferenceSource source, string prompt, GenerationOptions options, string? template,
        Func<string, Task> onText, CancellationToken ct)
    {
        options.Validate();
        var entry = Acquire(source);
        try
        {
            var model = await entry.Loading!.WaitAsync(ct);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    var chosen = model.Template(template);
                    foreach (var piece in model.StreamReply(prompt, options, chosen, ct: ct))
                        onText(piece).GetAwaiter().GetResult();
                    done.SetResult();
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }) { IsBackground = true, Name = "playground-generate" };
            thread.Start();
            await done.Task;
        }
        finally
        {
            Release(entry);
        }
    }

    Entry Acquire(InferenceSource source)
    {
        List<Entry> evicted = [];
        Entry entry;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var node = _recent.First;
            while (node is not null && node.Value.Source != source) node = node.Next;
            if (node is not null && node.Value.Loading is { IsFaulted: true } or { IsCanceled: true })
            {
                _recent.Remove(node);                                     // a failed load is retried, not cached
                node = null;
            }
            if (node is null)
            {
                entry = new Entry(source);
                entry.Loading = Task.Run(() => InferenceModel.Load(source));
                _recent.AddFirst(entry);
            }
            else
            {
                entry = node.Value;
                _recent.Remove(node);
                _recent.AddFirst(entry);
            }
            entry.Users++;
            while (_recent.Count > Capacity)
            {
                var last = _recent.Last!.Value;
                _recent.RemoveLast();
                last.Evicted = true;
                if (last.Users == 0) evicted.Add(last);
            }
        }
        foreach (var e in evicted) DisposeWhenLoaded(e);
        return entry;
    }

    void Release(Entry entry)
    {
        bool dispose;
        lock (_lock)
        {
            entry.Users--;
            dispose = entry.Evicted && entry.Users == 0;
        }
        if (dispose) DisposeWhenLoaded(entry);
    }

    void DisposeWhenLoaded(Entry entry) =>
        entry.Loading?.ContinueWith(t =>
        {
            if (!t.IsCompletedSuccessfully) return;
            t.Result.Dispose();
            _log.LogInformation("Playground model {Source} unloaded", entry.Source);
        }, TaskScheduler.Default);

    public void Dispose()
    {
        List<Entry> idle;
        lock (_lock)
        {
            _disposed = true;
            foreach (var e in _recent) e.Evicted = true;
            idle = _recent.Where(e => e.Users == 0).ToList();
            _recent.Clear();
        }
        foreach (var e in idle) DisposeWhenLoaded(e);
    }
}
