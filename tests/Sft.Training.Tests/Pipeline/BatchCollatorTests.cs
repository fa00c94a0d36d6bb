using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;
using TorchSharp;

namespace Sft.Training.Tests.Pipeline;

public class BatchCollatorTests
{
    const int Pad = 151643;
    static EncodedSample Sample(int[] ids, int[] labels, string source = "s") => new(ids, labels, source);
    static long[] Row(torch.Tensor t, int r) => t[r].data<long>().ToArray();

    [Fact]
    public void Padding_fills_to_the_longest_with_pad_id_ignored_labels_and_zero_mask()
    {
        using var batch = BatchCollator.Pad([
            Sample([1, 2, 3], [-100, 2, 3]),
            Sample([4, 5, 6, 7, 8], [-100, -100, 6, 7, 8]),
        ], Pad);
        Assert.Equal(new long[] { 2, 5 }, batch.InputIds.shape);
        Assert.Equal(torch.ScalarType.Int64, batch.InputIds.dtype);
        Assert.Equal([1, 2, 3, Pad, Pad], Row(batch.InputIds, 0));
        Assert.Equal([-100, 2, 3, -100, -100], Row(batch.Labels, 0));
        Assert.Equal([1, 1, 1, 0, 0], Row(batch.AttentionMask, 0));
        Assert.Equal([4, 5, 6, 7, 8], Row(batch.InputIds, 1));
        Assert.Null(batch.PositionIds);
        Assert.Null(batch.SegmentIds);
        Assert.Equal(2, batch.SampleCount);
        Assert.Equal(8, batch.TokenCount);
        Assert.Equal(5, batch.LossTokenCount);
    }

    [Fact]
    public void Packing_restarts_positions_numbers_segments_and_ignores_each_samples_first_label()
    {
        using var batch = BatchCollator.Pack([
            [Sample([1, 2, 3], [1, 2, 3]), Sample([4, 5], [4, 5])],
            [Sample([6, 7, 8, 9], [-100, 7, 8, 9])],
        ], Pad);
        Assert.Equal(new long[] { 2, 5 }, batch.InputIds.shape);
        Assert.Equal([1, 2, 3, 4, 5], Row(batch.InputIds, 0));
        Assert.Equal([-100, 2, 3, -100, 5], Row(batch.Labels, 0));
        Assert.Equal([0, 1, 2, 0, 1], Row(batch.PositionIds!, 0));
        Assert.Equal([1, 1, 1, 2, 2], Row(batch.SegmentIds!, 0));
        Assert.Equal([6, 7, 8, 9, Pad], Row(batch.InputIds, 1));
        Assert.Equal([0, 1, 2, 3, 0], Row(batch.PositionIds!, 1));
        Assert.Equal([1, 1, 1, 1, 0], Row(batch.SegmentIds!, 1));
        Assert.Equal([1, 1, 1, 1, 0], Row(batch.AttentionMask, 1));
        Assert.Equal(3, batch.SampleCount);
        Assert.Equal(9, batch.TokenCount);
        Assert.Equal(6, batch.LossTokenCount);
    }

    [Fact]
    public void Packed_and_unpacked_batches_train_the_same_targets_from_the_same_contexts()
    {
        // For every trained label: (sample, its position in the sample, target). Packed, the previous token must be in
        // the same segment, so the context the model sees is the sample's own prefix, as unpacked.
        var encoder = new ConversationEncoder(BuiltInTokenizers.LoadQwen(), PromptTemplates.Get("qwen"));
        var samples = DemoRows.AlpacaEnglish.Take(6).Select(encoder.Encode).ToList();
        using var unpacked = BatchCollator.Pad(samples, Pad);
        using var packed = BatchCollator.Pack([samples.Take(3).ToList(), samples.Skip(3).ToList()], Pad);

        var expected = new List<(int, int, long)>();
        for (var r = 0; r < samples.Count; r++)
        {
            var labels = Row(unpacked.Labels, r);
            for (var t = 1; t < labels.Length; t++) if (labels[t] != -100) expected.Add((r, t, labels[t]));
        }
        var actual = new List<(int, int, long)>();
        for (var r = 0; r < 2; r++)
        {
            var labels = Row(packed.Labels, r);
            var segments = Row(packed.SegmentIds!, r);
            var positions = Row(packed.PositionIds!, r);
            for (var t = 1; t < labels.Length; t++)
            {
                if (labels[t] == -100) continue;
                Assert.Equal(segments[t - 1], segments[t]);
                actual.Add((r * 3 + (int)segments[t] - 1, (int)positions[t], labels[t]));
            }
        }
        Assert.Equal(expected, actual);
        Assert.Equal(unpacked.LossTokenCount, packed.LossTokenCount);
        Assert.Equal(expected.Count, packed.LossTokenCount);
    }

    [Fact]
    public void Moving_a_batch_keeps_values_and_counts()
    {
        using var batch = BatchCollator.Pad([Sample([1, 2], [-100, 2])], Pad);
        using var moved = batch.To(torch.CPU);
        Assert.Equal(Row(batch.InputIds, 0), Row(moved.InputIds, 0));
        Assert.Equal(batch.LossTokenCount, moved.LossTokenCount);
    }
}
