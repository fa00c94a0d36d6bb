using Sft.Data.Datasets;
using Sft.Training.Tokenization.Templates;

namespace Sft.Training.Pipeline;

/// <summary>A row as the UI previews it: the text the template rendered, its ids and labels.</summary>
public sealed record PreviewRow(string Source, string Text, int[] InputIds, int[] Labels, IReadOnlyList<TemplateSegment> Segments);

/// <summary>Token lengths in [From, To).</summary>
public sealed record HistogramBin(int From, int To, int Count);

/// <summary>
/// Token statistics of a dataset before the length limit: lengths, a histogram, and how many rows the limit would
/// truncate or drop at <see cref="SeqLength"/>, and how many have nothing to train on after it.
/// </summary>
public sealed record DatasetStatistics(
    int Rows, long Tokens, long LossTokens,
    int MinLength, int MaxLength, double MeanLength, int MedianLength, int P95Length,
    IReadOnlyList<HistogramBin> Histogram,
    int SeqLength, int OverSeqLength, int WouldTruncate, int WouldDrop, int NoTrainableTokens);

/// <summary>Previews and statistics for the dataset pages and the CLI.</summary>
public static class DatasetInspector
{
    public static IReadOnlyList<PreviewRow> Preview(IEnumerable<DatasetExample> examples, ConversationEncoder encoder, int rows = 5) =>
        examples.Take(rows).Select(e =>
        {
            var r = encoder.Render(e);
            return new PreviewRow(r.Sample.Source, r.Text, r.Sample.InputIds, r.Sample.Labels, r.Segments);
        }).ToList();

    public static DatasetStatistics Statistics(IReadOnlyList<DatasetExample> examples, ConversationEncoder encoder, SequenceLimit limit, int bins = 20)
    {
        if (examples.Count == 0) throw new ArgumentException("The dataset has no rows.", nameof(examples));
        var lengths = new int[examples.Count];
        var loss = new long[examples.Count];
        var empty = new bool[examples.Count];
        ParallelRows.For(examples.Count, i =>
        {
            var s = encoder.Encode(examples[i]);
            lengths[i] = s.Length;
            loss[i] = s.LossTokens;
            empty[i] = limit.Apply(s, out _) is { } kept && kept.LossTokens == 0;
        });
        var sorted = lengths.Order().ToArray();
        var over = lengths.Count(l => l > limit.SeqLength);
        var dropped = limit.Mode == OverflowMode.Drop;
        return new DatasetStatistics(
            examples.Count, lengths.Sum(l => (long)l), loss.Sum(),
            sorted[0], sorted[^1], lengths.Average(), Percentile(sorted, 0.5), Percentile(sorted, 0.95),
            Histogram(sorted, bins),
            limit.SeqLength, over, dropped ? 0 : over, dropped ? over : 0, empty.Count(e => e));
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    static int Percentile(int[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>About <paramref name="bins"/> bins from 0 of a round width (1, 2 or 5 × 10^k) covering the longest row.</summary>
    static List<HistogramBin> Histogram(int[] sorted, int bins)
    {
        var raw = Math.Max(1.0, (sorted[^1] + 1) / (double)Math.Max(1, bins));
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var width = (int)(new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(w => w >= raw));
        var counts = new int[sorted[^1] / width + 1];
        foreach (var l in sorted) counts[l / width]++;
        return counts.Select((c, i) => new HistogramBin(i * width, (i + 1) * width, c)).ToList();
    }
}
