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
        var (rows, consumed) = Packer.NextRows(Enumerable.Range(0, 6).ToArray(), 0, i => lengths[i], seqLength: 8, rowCount: 10);
        Assert.Equal(6, consumed);
        Assert.Equal([[0], [1, 2], [3, 4], [5]], rows);

        (rows, consumed) = Packer.NextRows(Enumerable.Range(0, 6).ToArray(), 1, i => lengths[i], seqLength: 8, rowCount: 2);
        Assert.Equal([[1, 2], [3, 4]], rows);
        Assert.Equal(4, consumed);
    }

    [Fact]
    public void Packing_refuses_a_sample_longer_than_the_row()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Packer.NextRows([0], 0, _ => 9, seqLength: 8, rowCount: 1));
        Assert.Contains("seq_length 8", e.Message);
    }
}
