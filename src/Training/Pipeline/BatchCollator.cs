using static TorchSharp.torch;

namespace Sft.Training.Pipeline;

/// <summary>Builds <see cref="Batch"/>es: dynamic padding to the longest row, padding id from the tokenizer.</summary>
public static class BatchCollator
{
    /// <summary>One sample per row, padded on the right to the longest; no position or segment ids.</summary>
    public static Batch Pad(IReadOnlyList<EncodedSample> samples, int padId)
    {
        if (samples.Count == 0) throw new ArgumentException("A batch needs at least one sample.", nameof(samples));
        var width = samples.Max(s => s.Length);
        var grid = new Grid(samples.Count, width, padId);
        int tokens = 0, loss = 0;
        for (var r = 0; r < samples.Count; r++)
        {
            var s = samples[r];
            grid.Put(r, 0, s.InputIds, s.Labels);
            tokens += s.Length;
            loss += s.LossTokens;
        }
        return grid.ToBatch(withPositions: false, samples.Count, tokens, loss);
    }

    /// <summary>Several samples per row, concatenated; each row padded on the right to the longest row.</summary>
    public static Batch Pack(IReadOnlyList<IReadOnlyList<EncodedSample>> rows, int padId)
    {
        if (rows.Count == 0 || rows.Any(r => r.Count == 0)) throw new ArgumentException("A packed batch needs rows of at least one sample.", nameof(rows));
        var width = rows.Max(r => r.Sum(s => s.Length));
        var grid = new Grid(rows.Count, width, padId);
        int samples = 0, tokens = 0, loss = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            var column = 0;
            for (var k = 0; k < rows[r].Count; k++)
            {
                var s = rows[r][k];
                grid.Put(r, column, s.InputIds, s.Labels, segment: k + 1);
                column += s.Length;
                tokens += s.Length;
                loss += s.LossTokens;
                samples++;
            }
        }
        return grid.ToBatch(withPositions: true, samples, tokens, loss);
    }

    /// <summary>Host buffers of a [rows, width] batch before they become tensors.</summary>
    sealed class Grid(int rows, int width, int padId)
    {
        readonly long[] _ids = Filled(rows * width, padId);
        readonly long[] _labels = Filled(rows * width, EncodedSample.IgnoreIndex);
        readonly long[] _mask = new long[rows * width];
        readonly long[] _positions = new long[rows * width];
        readonly long[] _segments = new long[rows * width];

        static long[] Filled(int n, long value)
        {
            var a = new long[n];
            Array.Fill(a, value);
            return a;
        }

        /// <summary>Writes a sample at (row, column). Its first label is ignored: position 0 of a sample has no
        /// predecessor inside the sample, which is also what the shifted loss does for an unpacked row.</summary>
        public void Put(int row, int column, int[] ids, int[] labels, int segment = 1)
        {
            var at = row * width + column;
            for (var t = 0; t < ids.Length; t++)
            {
                _ids[at + t] = ids[t];
                _labels[at + t] = t == 0 ? EncodedSample.IgnoreIndex : labels[t];
                _mask[at + t] = 1;
                _positions[at + t] = t;
                _segments[at + t] = segment;
            }
        }

        public Batch ToBatch(bool withPositions, int samples, int tokens, int loss)
        {
            long[] shape = [rows, width];
            return new Batch(
                tensor(_ids, shape, ScalarType.Int64), tensor(_labels, shape, ScalarType.Int64), tensor(_mask, shape, ScalarType.Int64),
                withPositions ? tensor(_positions, shape, ScalarType.Int64) : null,
                withPositions ? tensor(_segments, shape, ScalarType.Int64) : null,
                samples, tokens, loss);
        }
    }
}
