using Sft.Training.Pipeline;
using TorchSharp;

namespace Sft.Training.Tests.Pipeline;

public class BatchLoaderTests
{
    const int Pad = 0;

    /// <summary>Samples whose ids say who they are: sample i is [i+1, i+1, ...] of length 2 + i % 7.</summary>
    static readonly List<EncodedSample> Samples = Enumerable.Range(0, 23)
        .Select(i => new EncodedSample(Enumerable.Repeat(i + 1, 2 + i % 7).ToArray(), Enumerable.Repeat(i + 1, 2 + i % 7).ToArray(), $"row {i}"))
        .ToList();

    static long[] Flat(Batch b) => b.InputIds.data<long>().ToArray();

    [Theory]
    [InlineData(PackingStrategy.None)]
    [InlineData(PackingStrategy.Pack)]
    [InlineData(PackingStrategy.Truncate)]
    public void A_loader_started_at_a_saved_cursor_continues_with_exactly_the_next_batch(PackingStrategy packing)
    {
        var options = new BatchingOptions(BatchSize: 3, SeqLength: 12, Packing: packing, Seed: 99);
        var first = new BatchLoader(Samples, options, Pad);
        var stream = new List<(long[] Ids, DataCursor Before)>();
        for (var i = 0; i < 40; i++)   // several epochs
        {
            var before = first.Cursor;
            using var b = first.Next();
            stream.Add((Flat(b), before));
        }
        Assert.True(first.Cursor.Epoch >= 2, "the stream crossed epoch boundaries");

        foreach (var k in new[] { 1, 7, 8, 9, 17, 30 })
        {
            var resumed = new BatchLoader(Samples, options, Pad, stream[k].Before);
            for (var j = k; j < Math.Min(k + 5, stream.Count); j++)
            {
                using var b = resumed.Next();
                Assert.Equal(stream[j].Ids, Flat(b));
            }
        }
    }

    [Theory]
    [InlineData(PackingStrategy.None)]
    [InlineData(PackingStrategy.Pack)]
    public void Every_epoch_uses_each_sample_once_in_its_shuffled_order(PackingStrategy packing)
    {
        var options = new BatchingOptions(BatchSize: 4, SeqLength: 12, Packing: packing, Seed: 5);
        var loader = new BatchLoader(Samples, options, Pad);
        for (var epoch = 0; epoch < 3; epoch++)
        {
            var seen = new List<int>();
            var batches = 0;
            do
            {
                using var b = loader.Next();
                batches++;
                var ids = Flat(b);
                var mask = b.AttentionMask.data<long>().ToArray();
                var segments = b.SegmentIds?.data<long>().ToArray();
                for (var t = 0; t < ids.Length; t++)
                {
                    // a sample starts where the row starts or the segment changes
                    var starts = t % b.Columns == 0 || (segments != null ? segments[t] != segments[t - 1] : false);
                    if (mask[t] == 1 && starts) seen.Add((int)ids[t] - 1);
                }
            } while (loader.Cursor.Index < Samples.Count);
            Assert.Equal(epoch, loader.Cursor.Epoch);
            Assert.Equal(loader.OrderOf(epoch), seen);
            Assert.Equal(loader.BatchesInEpoch(epoch), batches);
        }
    }

    [Fact]
    public void Truncate_packing_fills_every_row_but_the_last_and_uses_every_token_once_per_epoch()
    {
        var options = new BatchingOptions(BatchSize: 3, SeqLength: 8, Packing: PackingStrategy.Truncate, Seed: 3);
        var loader = new BatchLoader(Samples, options, Pad);
        var tokens = new List<long>();
        var batches = 0;
        do
        {
            using var b = loader.Next();
            batches++;
            var mask = b.AttentionMask.data<long>().ToArray();
            var ids = b.InputIds.data<long>().ToArray();
            tokens.AddRange(ids.Where((_, t) => mask[t] == 1));
            if (loader.Cursor.Index < Samples.Count) Assert.Equal(3 * 8, mask.Sum());
        } while (loader.Cursor.Index < Samples.Count);
        Assert.Equal(loader.OrderOf(0).SelectMany(i => Samples[i].InputIds.Select(x => (long)x)), tokens);
        Assert.Equal(loader.BatchesInEpoch(0), batches);
    }

    [Fact]
    public void Drop_remainder_ends_each_epoch_at_the_last_full_batch()
    {
        var loader = new BatchLoader(Samples, new BatchingOptions(BatchSize: 5, SeqLength: 12, Seed: 1, DropRemainder: true), Pad);
        Assert.Equal(4, loader.BatchesInEpoch(0));   // 23 samples: 4 batches of 5, 3 left over
        for (var b = 0; b < 8; b++)
        {
            using var batch = loader.Next();
            Assert.Equal(5, batch.SampleCount);
        }
        Assert.Equal(new DataCursor(1, 20), loader.Cursor);
        using (loader.Next()) Assert.Equal(new DataCursor(2, 5), loader.Cursor);
        Assert.Throws<ArgumentException>(() => new BatchLoader(Samples.Take(3).ToList(), new BatchingOptions(5, 12, DropRemainder: true), Pad));
    }

    [Fact]
    public void Without_shuffle_the_order_is_the_dataset_order()
    {
        var loader = new BatchLoader(Samples, new BatchingOptions(BatchSize: 2, SeqLength: 12, Shuffle: false), Pad);
        using var b = loader.Next();
        Assert.Equal([1L, 2L], b.InputIds[.., 0].data<long>().ToArray());
        Assert.Equal(new DataCursor(0, 2), loader.Cursor);
    }

    [Fact]
    public void Bad_setups_are_refused_with_the_reason()
    {
        Assert.Throws<ArgumentException>(() => new BatchLoader([], new BatchingOptions(2, 8), Pad));
        var e = Assert.Throws<ArgumentException>(() => new BatchLoader(Samples, new BatchingOptions(2, 4, Packing: PackingStrategy.Pack), Pad));
        Assert.Contains("seq_length 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLoader(Samples, new BatchingOptions(2, 8), Pad, new DataCursor(0, 99)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchingOptions(0, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLoader(Samples, new BatchingOptions(2, 8), Pad, new DataCursor(0, 3, 1)));
    }
}
