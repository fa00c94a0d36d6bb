using Sft.Data.Datasets;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Training.Tests.Pipeline;

public class PreparationTests
{
    static readonly ConversationEncoder Encoder = new(BuiltInTokenizers.LoadQwen(), PromptTemplates.Get("qwen"));

    [Fact]
    public void Truncation_keeps_the_first_tokens_and_counts_them()
    {
        var full = DemoRows.AlpacaEnglish.Select(Encoder.Encode).ToList();
        var data = TokenizedDataset.Prepare(DemoRows.AlpacaEnglish, Encoder, new SequenceLimit(128));
        var longer = full.Count(s => s.Length > 128);
        Assert.True(longer > 100, $"{longer} rows over 128 tokens");
        Assert.Equal(DemoRows.AlpacaEnglish.Count, data.Report.Rows);
        Assert.Equal(longer, data.Report.Truncated);
        Assert.Equal(0, data.Report.DroppedTooLong);
        // Truncated rows whose reply was cut away entirely have nothing to train on.
        var empty = full.Count(s => EncodedSample.CountLossTokens(s.Labels.AsSpan(0, Math.Min(128, s.Length))) == 0);
        Assert.Equal(empty, data.Report.DroppedNoTrainableTokens);
        Assert.Equal(full.Count - empty, data.Samples.Count);
        Assert.All(data.Samples, s => Assert.True(s.Length <= 128));
        var kept = data.Samples.First(s => s.Source == full.First(f => f.Length > 128 && EncodedSample.CountLossTokens(f.Labels.AsSpan(0, 128)) > 0).Source);
        var original = full.First(f => f.Source == kept.Source);
        Assert.Equal(original.InputIds[..128], kept.InputIds);
        Assert.Equal(data.Samples.Sum(s => (long)s.Length), data.Report.Tokens);
    }

    [Fact]
    public void Drop_mode_drops_long_rows_and_keeps_the_others_in_order()
    {
        var full = DemoRows.AlpacaEnglish.Select(Encoder.Encode).ToList();
        var data = TokenizedDataset.Prepare(DemoRows.AlpacaEnglish, Encoder, new SequenceLimit(256, OverflowMode.Drop));
        Assert.Equal(full.Count(s => s.Length > 256), data.Report.DroppedTooLong);
        Assert.Equal(0, data.Report.Truncated);
        Assert.Equal(full.Where(s => s.Length <= 256).Select(s => s.Source), data.Samples.Select(s => s.Source));
    }

    [Fact]
    public void A_bad_pre_tokenized_row_is_reported_with_its_source()
    {
        var rows = new List<DatasetExample> { new(null, new PreTokenized([1, 2, 3], [1, 2]), "data.jsonl:7") };
        var e = Assert.Throws<InvalidDataException>(() => TokenizedDataset.Prepare(rows, Encoder, new SequenceLimit(16)));
        Assert.Contains("data.jsonl:7", e.Message);
        Assert.Contains("same length", e.Message);
    }

    [Fact]
    public void Pre_tokenized_rows_pass_through_without_their_padding()
    {
        var rows = new List<DatasetExample> { new(null, new PreTokenized([5, 6, 7, 0], [-100, 6, 7, -100], [1, 1, 1, 0]), "t:1") };
        var data = TokenizedDataset.Prepare(rows, Encoder, new SequenceLimit(16));
        Assert.Equal([5, 6, 7], data.Samples[0].InputIds);
        Assert.Equal([-100, 6, 7], data.Samples[0].Labels);
    }

    [Fact]
    public void Statistics_describe_lengths_and_what_the_limit_would_do()
    {
        var rows = DemoRows.AlpacaChinese;
        var lengths = rows.Select(r => Encoder.Encode(r).Length).Order().ToArray();
        var stats = DatasetInspector.Statistics(rows, Encoder, new SequenceLimit(200));
        Assert.Equal(rows.Count, stats.Rows);
        Assert.Equal(lengths[0], stats.MinLength);
        Assert.Equal(lengths[^1], stats.MaxLength);
        Assert.Equal(lengths.Sum(l => (long)l), stats.Tokens);
        Assert.Equal(lengths[(int)Math.Ceiling(0.5 * lengths.Length) - 1], stats.MedianLength);
        Assert.Equal(lengths.Count(l => l > 200), stats.OverSeqLength);
        Assert.Equal(stats.OverSeqLength, stats.WouldTruncate);
        Assert.Equal(0, stats.WouldDrop);
        Assert.Equal(rows.Count, stats.Histogram.Sum(b => b.Count));
        Assert.All(stats.Histogram, b => Assert.Equal(lengths.Count(l => l >= b.From && l < b.To), b.Count));
        Assert.InRange(stats.Histogram.Count, 10, 30);
    }

    [Fact]
    public void Preview_shows_the_rendered_text_with_ids_and_labels()
    {
        var preview = DatasetInspector.Preview(DemoRows.AlpacaEnglish, Encoder, rows: 3);
        Assert.Equal(3, preview.Count);
        var first = preview[0];
        Assert.Equal("alpaca_en_demo.json#0", first.Source);
        Assert.StartsWith("<|im_start|>system\nYou are Qwen", first.Text);
        Assert.Equal(first.Text, BuiltInTokenizers.LoadQwen().Decode(first.InputIds));
        Assert.Equal(first.InputIds.Length, first.Labels.Length);
        Assert.Contains(first.Segments, s => s.Trainable);
    }
}
