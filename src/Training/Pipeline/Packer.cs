namespace Sft.Training.Pipeline;

/// <summary>
/// Greedy sequential packing, the origin's PackingHandler "pack" strategy (mindformers/dataset/handler/packing_handler.py):
/// samples are added to a row in order while they fit in <c>seq_length</c>; the first that does not fit starts the next
/// row. Samples are never split (longer ones were truncated or dropped before).
/// </summary>
public static class Packer
{
    /// <summary>
    /// Fills up to <paramref name="rowCount"/> rows from <paramref name="order"/>[<paramref name="start"/>..]; returns
    /// the rows (as indices into the dataset) and how many entries of the order they consumed.
    /// </summary>
    public static (List<List<int>> Rows, int Consumed) NextRows(IReadOnlyList<int> order, int start, Func<int, int> lengthOf, int seqLength, int rowCount)
    {
        var rows = new List<List<int>>(rowCount);
        var next = start;
        while (rows.Count < rowCount && next < order.Count)
        {
            var row = new List<int>();
            var used = 0;
            while (next < order.Count)
            {
                var length = lengthOf(order[next]);
                if (length > seqLength)
                    throw new InvalidOperationException($"Sample {order[next]} has {length} tokens, more than seq_length {seqLength}; apply the SequenceLimit before packing.");
                if (used + length > seqLength) break;
                row.Add(order[next++]);
                used += length;
            }
            rows.Add(row);
        }
        return (rows, next - start);
    }
}
