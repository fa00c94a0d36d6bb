namespace Sft.Training.Pipeline;

/// <summary>How samples share rows: one per row, whole samples packed, or one token stream cut into rows.</summary>
public enum PackingStrategy
{
    /// <summary>One sample per row, padded to the longest row of the batch.</summary>
    None,
    /// <summary>Whole samples in order while they fit in seq_length (the origin PackingHandler's "pack").</summary>
    Pack,
    /// <summary>Samples concatenated and cut every seq_length tokens, a sample continuing in the next row as a
    /// segment of its own (the origin PackingHandler's "truncate").</summary>
    Truncate,
}

/// <summary>A run of tokens of one sample placed in a row: <c>sample[Start..Start+Length]</c>.</summary>
public readonly record struct PackedPiece(int Sample, int Start, int Length);

/// <summary>
/// Fills rows of at most <c>seq_length</c> tokens from a sample order, as the origin's PackingHandler
/// (mindformers/dataset/handler/packing_handler.py) does: "pack" adds whole samples while they fit and starts a new
/// row with the first that does not; "truncate" cuts the concatenated stream every <c>seq_length</c> tokens.
/// </summary>
public static class Packer
{
    /// <summary>
    /// Up to <paramref name="rowCount"/> rows from position (<paramref name="index"/>, <paramref name="offset"/>) of
    /// <paramref name="order"/> (offset: tokens of that sample already used, "truncate" only); returns the rows and
    /// the position after them.
    /// </summary>
    public static (List<List<PackedPiece>> Rows, int Index, int Offset) NextRows(
        IReadOnlyList<int> order, int index, int offset, Func<int, int> lengthOf, int seqLength, int rowCount, PackingStrategy strategy)
    {
        if (strategy == PackingStrategy.None) throw new ArgumentException("NextRows packs rows; use one sample per row for PackingStrategy.None.", nameof(strategy));
        var rows = new List<List<PackedPiece>>(rowCount);
        while (rows.Count < rowCount && index < order.Count)
        {
            var row = new List<PackedPiece>();
            var used = 0;
            while (index < order.Count && used < seqLength)
            {
                var sample = order[index];
                var length = lengthOf(sample);
                if (strategy == PackingStrategy.Pack)
                {
                    if (length > seqLength)
                        throw new InvalidOperationException($"Sample {sample} has {length} tokens, more than seq_length {seqLength}; apply the SequenceLimit before packing.");
                    if (used + length > seqLength) break;
                    row.Add(new PackedPiece(sample, 0, length));
                    used += length;
                    index++;
                    continue;
                }
                var take = Math.Min(length - offset, seqLength - used);
                row.Add(new PackedPiece(sample, offset, take));
                used += take;
                offset += take;
                if (offset == length) { index++; offset = 0; }
            }
            rows.Add(row);
        }
        return (rows, index, offset);
    }
}
