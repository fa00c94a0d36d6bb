using Sft.Training.Pipeline;

namespace Sft.Training.Tests.Pipeline;

public class ShuffleAndPackingTests
{
    [Fact]
    public void Permutations_follow_the_documented_algorithm()
    {
        // Values from an independent Python transcription of the algorithm in EpochShuffle's summary.
        Assert.Equal([0, 6, 9, 1, 5, 7, 8, 2, 4, 3], EpochShuffle.Permutation(10, 42, 0));
        Assert.Equal([3, 8, 7, 1, 9, 0, 2, 6, 5, 4], EpochShuffle.Permutation(10, 42, 1));
        Assert.Equal([6, 7, 5, 9, 1, 10, 11, 4, 2, 0, 8, 3], EpochShuffle.Permutation(12, 1234, 3));
    }

    [Fact]
    public void Each_epoch_is_a_permutation_that_differs_from_the_last()
    {
        var a = EpochShuffle.Permutation(1000, 7, 0);
        var b = EpochShuffle.Permutation(1000, 7, 1);
        Assert.Equal(Enumerable.Range(0, 1000), a.Order());
        Assert.Equal(Enumerable.Range(0, 1000), b.Order());
        Assert.NotEqual(a, b);
        Assert.Equal(a, EpochShuffle.Permutation(1000, 7, 0));
        Assert.NotEqual(a, EpochShuffle.Permutation(1000, 8, 0));
        Assert.Empty(EpochShuffle.Permutation(0, 7, 0));
        Assert.Equal([0], EpochShuffle.Permutation(1, 7, 5));
    }

    [Fact]
    public void Packing_is_greedy_in_order_like_the_origin_handler()
    {
        int[] lengths = [5, 4, 3, 6, 2, 8];
        var order = Enumerable.Range(0, 6).ToArray();
        var (rows, index, offset) = Packer.NextRows(order, 0, 0, i => lengths[i], seqLength: 8, rowCount: 10, PackingStrategy.Pack);
        Assert.Equal((6, 0), (index, offset));
        Assert.Equal([[0], [1, 2], [3, 4], [5]], rows.Select(r => r.Select(p => p.Sample).ToArray()).ToArray());
        Assert.All(rows.SelectMany(r => r), p => Assert.Equal((0, lengths[p.Sample]), (p.Start, p.Length)));

        (rows, index, _) = Packer.NextRows(order, 1, 0, i => lengths[i], seqLength: 8, rowCount: 2, PackingStrategy.Pack);
        Assert.Equal([[1, 2], [3, 4]], rows.Select(r => r.Select(p => p.Sample).ToArray()).ToArray());
        Assert.Equal(5, index);
    }

    [Fact]
    public void Truncate_packing_cuts_the_stream_every_seq_length_tokens()
    {
        int[] lengths = [5, 4, 3, 6, 2];
        var order = Enumerable.Range(0, 5).ToArray();
        var (rows, index, offset) = Packer.NextRows(order, 0, 0, i => lengths[i], seqLength: 8, rowCount: 2, PackingStrategy.Truncate);
        Assert.Equal(
            [[new PackedPiece(0, 0, 5), new PackedPiece(1, 0, 3)], [new PackedPiece(1, 3, 1), new PackedPiece(2, 0, 3), new PackedPiece(3, 0, 4)]],
            rows);
        Assert.Equal((3, 4), (index, offset));
        (rows, index, offset) = Packer.NextRows(order, index, offset, i => lengths[i], seqLength: 8, rowCount: 2, PackingStrategy.Truncate);
        Assert.Equal([[new PackedPiece(3, 4, 2), new PackedPiece(4, 0, 2)]], rows);
        Assert.Equal((5, 0), (index, offset));
    }

    [Fact]
    public void Packing_refuses_a_sample_longer_than_the_row()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Packer.NextRows([0], 0, 0, _ => 9, seqLength: 8, rowCount: 1, PackingStrategy.Pack));
        Assert.Contains("seq_length 8", e.Message);
    }
}
