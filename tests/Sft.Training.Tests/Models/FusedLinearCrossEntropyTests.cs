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
}
