namespace Sft.Training.Pipeline;

/// <summary>
/// <paramref name="BatchSize"/> is rows per batch (a row holds one sample, or several with a <paramref name="Packing"/>
/// strategy); <paramref name="Shuffle"/> orders each epoch by <see cref="EpochShuffle"/> with <paramref name="Seed"/>;
/// <paramref name="DropRemainder"/> ends an epoch when fewer than <paramref name="BatchSize"/> samples are left (unpacked
/// batches; MindFormers' <c>drop_remainder</c>), so every batch is full.
/// </summary>
public sealed record BatchingOptions(int BatchSize, int SeqLength, PackingStrategy Packing = PackingStrategy.None, bool Shuffle = true, ulong Seed = 42,
    bool DropRemainder = false)
{
    public int BatchSize { get; } = BatchSize > 0 ? BatchSize : throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch_size must be at least 1.");
    public int SeqLength { get; } = SeqLength > 1 ? SeqLength : throw new ArgumentOutOfRangeException(nameof(SeqLength), SeqLength, "seq_length must be at least 2.");
}

/// <summary>
/// Hands out batches forever, epoch after epoch, from <see cref="Cursor"/>. Each epoch's order is computed from the
/// seed alone, so a loader created at a saved cursor continues with exactly the batch the first one would have
/// produced next. Not thread-safe: one per training job.
/// </summary>
public sealed class BatchLoader
{
    readonly IReadOnlyList<EncodedSample> _samples;
    readonly BatchingOptions _options;
    readonly int _padId;
    int[] _order;
    int _orderEpoch;

    /// <summary>The position of the next batch.</summary>
    public DataCursor Cursor { get; private set; }

    public BatchingOptions Options => _options;
    public int SampleCount => _samples.Count;

    public BatchLoader(IReadOnlyList<EncodedSample> samples, BatchingOptions options, int padId, DataCursor? start = null)
    {
        if (samples.Count == 0) throw new ArgumentException("The dataset has no samples left to train on (see the preparation report).", nameof(samples));
        if (options.Packing == PackingStrategy.Pack && samples.FirstOrDefault(s => s.Length > options.SeqLength) is { } tooLong)
            throw new ArgumentException($"{tooLong.Source}: {tooLong.Length} tokens exceed seq_length {options.SeqLength}; prepare the dataset with the same seq_length.", nameof(samples));
        if (options.DropRemainder && options.Packing == PackingStrategy.None && samples.Count < options.BatchSize)
            throw new ArgumentException($"The dataset has {samples.Count} samples, fewer than batch_size {options.BatchSize}, so drop_remainder would drop them all: " +
                "lower batch_size or set drop_remainder: False.", nameof(samples));
        _samples = samples;
        _options = options;
        _padId = padId;
        Cursor = start ?? DataCursor.Start;
        if (Cursor.Epoch < 0 || Cursor.Index < 0 || Cursor.Index > samples.Count || Cursor.Offset < 0
            || (Cursor.Offset > 0 && (options.Packing != PackingStrategy.Truncate || Cursor.Index == samples.Count)))
            throw new ArgumentOutOfRangeException(nameof(start), Cursor, $"A cursor for this dataset has epoch ≥ 0, index in 0..{samples.Count} and an offset only with packing 'truncate'; was the dataset or the packing changed since the checkpoint?");
        if (Cursor.Offset > 0 && Cursor.Offset >= samples[OrderOf(Cursor.Epoch)[Cursor.Index]].Length)
            throw new ArgumentOutOfRangeException(nameof(start), Cursor, "The cursor's offset is past the end of its sample; was the dataset changed since the checkpoint?");
        _orderEpoch = Cursor.Epoch;
        _order = OrderOf(Cursor.Epoch);
    }

    /// <summary>The sample order of an epoch (indices into the dataset).</summary>
    public int[] OrderOf(int epoch) => _options.Shuffle
        ? EpochShuffle.Permutation(_samples.Count, _options.Seed, epoch)
        : Enumerable.Range(0, _samples.Count).ToArray();

    /// <summary>How many batches epoch <paramref name="epoch"/> has (packing depends on the order).</summary>
    public int BatchesInEpoch(int epoch)
    {
        if (_options.Packing == PackingStrategy.None)
            return _options.DropRemainder ? _samples.Count / _options.BatchSize : (_samples.Count + _options.BatchSize - 1) / _options.BatchSize;
        var order = OrderOf(epoch);
        int batches = 0, index = 0, offset = 0;
        while (index < order.Length)
        {
            (_, index, offset) = Packer.NextRows(order, index, offset, i => _samples[i].Length, _options.SeqLength, _options.BatchSize, _options.Packing);
            batches++;
        }
        return batches;
    }

    // Unpacked with drop_remainder, the epoch ends at the last full batch.
    int EpochEnd => _options.DropRemainder && _options.Packing == PackingStrategy.None ? _samples.Count / _options.BatchSize * _options.BatchSize : _samples.Count;

    EncodedSample Slice(PackedPiece piece)
    {
        var s = _samples[piece.Sample];
        return piece.Start == 0 && piece.Length == s.Length ? s
            : s with { InputIds = s.InputIds[piece.Start..(piece.Start + piece.Length)], Labels = s.Labels[piece.Start..(piece.Start + piece.Length)] };
    }

    /// <summary>The next batch; moves the cursor past it (into the next epoch when this one is used up).</summary>
    public Batch Next()
    {
        if (Cursor.Index >= EpochEnd) Cursor = new DataCursor(Cursor.Epoch + 1, 0, 0);
        if (_orderEpoch != Cursor.Epoch) { _order = OrderOf(Cursor.Epoch); _orderEpoch = Cursor.Epoch; }

        if (_options.Packing == PackingStrategy.None)
        {
            var count = Math.Min(_options.BatchSize, _samples.Count - Cursor.Index);
            var batch = BatchCollator.Pad(_order.AsSpan(Cursor.Index, count).ToArray().Select(i => _samples[i]).ToList(), _padId);
            Cursor = Cursor with { Index = Cursor.Index + count };
            return batch;
        }
        var (rows, index, offset) = Packer.NextRows(_order, Cursor.Index, Cursor.Offset, i => _samples[i].Length,
            _options.SeqLength, _options.BatchSize, _options.Packing);
        var packed = BatchCollator.Pack(rows.Select(r => (IReadOnlyList<EncodedSample>)r.Select(Slice).ToList()).ToList(), _padId);
        Cursor = Cursor with { Index = index, Offset = offset };
        return packed;
    }
}
