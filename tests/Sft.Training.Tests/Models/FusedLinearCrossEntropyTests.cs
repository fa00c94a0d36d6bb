using Sft.Training.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sft.Training.Tests.Models;

public class FusedLinearCrossEntropyTests
{
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]   // LoRA: frozen head, gradients only for the rows
    [InlineData(false, true)]
    public void Loss_and_gradients_equal_linear_then_cross_entropy(bool rowsNeedGrad, bool weightNeedsGrad)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var rows = new Parameter(randn(37, 24, generator: generator), rowsNeedGrad);
        var weight = new Parameter(randn(1000, 24, generator: generator) * 0.3, weightNeedsGrad);
        var targets = randint(0, 1000, [37], generator: generator);

        var fused = FusedLinearCrossEntropy.Apply(rows, weight, targets, chunkRows: 8);   // 5 chunks, the last one short
        (fused * 0.5).backward();
        var fusedRows = rows.grad?.clone();
        var fusedWeight = weight.grad?.clone();
        rows.grad?.zero_();
        weight.grad?.zero_();

        var plain = F.cross_entropy(F.linear(rows, weight), targets, reduction: nn.Reduction.Sum);
        (plain * 0.5).backward();
        Assert.True(Math.Abs(fused.item<float>() - plain.item<float>()) < 1e-3, $"{fused.item<float>()} vs {plain.item<float>()}");
        if (rowsNeedGrad) Assert.True((fusedRows! - rows.grad!).abs().max().item<float>() < 1e-5);
        else Assert.Null(fusedRows);
        if (weightNeedsGrad) Assert.True((fusedWeight! - weight.grad!).abs().max().item<float>() < 1e-5);
        else Assert.Null(fusedWeight);
    }

    /// <summary>The model's kept logits buffer (dirty from the last call) gives the same results as a fresh one, and grows
    /// to the most rows a call asks for.</summary>
    [Fact]
    public void A_kept_logits_buffer_gives_the_same_loss_and_gradients_and_grows_when_needed()
    {
        using var scope = NewDisposeScope();
        using var kept = new LogitsBuffer();
        var generator = new Generator(9);
        var rows = new Parameter(randn(37, 24, generator: generator));
        var weight = new Parameter(randn(1000, 24, generator: generator) * 0.3);
        var targets = randint(0, 1000, [37], generator: generator);
        foreach (var (chunk, bytes) in new[] { (8L, 8 * 1000 * 4L), (16L, 16 * 1000 * 4L), (8L, 16 * 1000 * 4L) })
        {
            var fresh = LossAndGradients(rows, weight, targets, chunk, null);
            var reused = LossAndGradients(rows, weight, targets, chunk, kept);
            Assert.Equal(bytes, kept.Bytes);
            AssertIdentical(fresh, reused);
        }
    }

    /// <summary>A bf16 head is widened to fp32 a slice of the vocabulary at a time (here 300 rows: 4 slices, the last
    /// one short); loss and gradients equal the head widened whole, rounded to bf16 like the parameters.</summary>
    [Fact]
    public void A_bf16_head_widened_in_slices_matches_the_whole_head_in_fp32()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var rows = new Parameter(randn(37, 24, generator: generator).to(ScalarType.BFloat16), true);
        var weight = new Parameter((randn(1000, 24, generator: generator) * 0.3).to(ScalarType.BFloat16), true);
        var targets = randint(0, 1000, [37], generator: generator);

        var fused = FusedLinearCrossEntropy.Apply(rows, weight, targets, chunkRows: 8, widenedSliceRows: 300);
        fused.backward();
        Assert.Equal(ScalarType.BFloat16, rows.grad!.dtype);
        Assert.Equal(ScalarType.BFloat16, weight.grad!.dtype);

        var (rows32, weight32) = (new Parameter(rows.detach().to(ScalarType.Float32), true), new Parameter(weight.detach().to(ScalarType.Float32), true));
        var plain = F.cross_entropy(F.linear(rows32, weight32), targets, reduction: nn.Reduction.Sum);
        plain.backward();
        Assert.True(Math.Abs(fused.item<float>() - plain.item<float>()) < 1e-3, $"{fused.item<float>()} vs {plain.item<float>()}");
        // Summed in another order, an fp32 gradient may round to the neighbouring bf16 value: at most one bf16 step.
        WithinOneBf16Step(rows.grad!, rows32.grad!);
        WithinOneBf16Step(weight.grad!, weight32.grad!);
    }

    /// <summary>With the model's kept buffers, a bf16 head's slices are widened into one kept fp32 block: loss and
    /// gradients are bit-identical to slices widened into new tensors, and the block does not grow from call to call.</summary>
    [Fact]
    public void A_bf16_head_widened_into_the_kept_block_gives_the_same_loss_and_gradients()
    {
        using var scope = NewDisposeScope();
        using var kept = new LogitsBuffer();
        var generator = new Generator(11);
        var rows = new Parameter(randn(37, 24, generator: generator).to(ScalarType.BFloat16), true);
        var weight = new Parameter((randn(1000, 24, generator: generator) * 0.3).to(ScalarType.BFloat16), true);
        var targets = randint(0, 1000, [37], generator: generator);
        var fresh = LossAndGradients(rows, weight, targets, 8, null, widenedSliceRows: 300);
        for (var call = 0; call < 2; call++)
        {
            var reused = LossAndGradients(rows, weight, targets, 8, kept, widenedSliceRows: 300);
            Assert.Equal(8 * 1000 * 4L + 300 * 24 * 4L, kept.Bytes);           // the logits chunk and one 300-row fp32 slice
            AssertIdentical(fresh, reused);
        }
    }

    /// <summary>The fused loss over fresh gradients, its backward run: the loss and copies of both gradients.</summary>
    static (Tensor Loss, Tensor Rows, Tensor Weight) LossAndGradients(Parameter rows, Parameter weight, Tensor targets, long chunk,
        LogitsBuffer? buffer, long? widenedSliceRows = null)
    {
        rows.grad = null;
        weight.grad = null;
        var loss = FusedLinearCrossEntropy.Apply(rows, weight, targets, chunk, widenedSliceRows, buffer);
        loss.backward();
        return (loss, rows.grad!.clone(), weight.grad!.clone());
    }

    static void AssertIdentical((Tensor Loss, Tensor Rows, Tensor Weight) expected, (Tensor Loss, Tensor Rows, Tensor Weight) actual)
    {
        Assert.True(expected.Loss.equal(actual.Loss).all().item<bool>());
        Assert.True(expected.Rows.equal(actual.Rows).all().item<bool>());
        Assert.True(expected.Weight.equal(actual.Weight).all().item<bool>());
    }

    static void WithinOneBf16Step(Tensor bf16, Tensor fp32)
    {
        var error = (bf16.to(ScalarType.Float32) - fp32).abs();
        var step = fp32.abs() * (1.0 / 128) + 1e-7;
        Assert.True((error <= step).all().item<bool>(), $"max error {error.max().item<float>()} over {(error / step).max().item<float>()} bf16 steps");
    }
}
