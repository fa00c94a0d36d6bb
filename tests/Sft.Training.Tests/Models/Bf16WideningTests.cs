using Sft.Training.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sft.Training.Tests.Models;

/// <summary>
/// The widened bf16 products must give what a bf16 kernel with fp32 accumulation gives: the fp32 result
/// of the (exactly widened) operands, rounded to bf16, for outputs and for every gradient.
/// </summary>
public class Bf16WideningTests
{
    static Tensor Bf16(params long[] shape) => randn(shape).to(ScalarType.BFloat16);

    static void AssertRoundedEqual(Tensor expectedFp32, Tensor actualBf16, string what)
    {
        Assert.Equal(ScalarType.BFloat16, actualBf16.dtype);
        var expected = expectedFp32.to(ScalarType.BFloat16).to(ScalarType.Float32);
        var actual = actualBf16.to(ScalarType.Float32);
        // Same products, possibly summed in another order: at most one bf16 step (2^-8 relative) apart.
        var tolerance = expected.abs() * (1.0 / 128) + 1e-6;
        var worst = ((actual - expected).abs() - tolerance).max().item<float>();
        Assert.True(worst <= 0, $"{what}: off by more than one bf16 step ({worst} beyond)");
    }

    [Fact]
    public void Linear_output_and_gradients_are_the_fp32_results_rounded()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var x = Bf16(2, 7, 64).requires_grad_(true);
        var w = new Parameter(Bf16(48, 64));
        var b = new Parameter(Bf16(48));
        var upstream = Bf16(2, 7, 48);

        var y = Bf16Widening.LinearInFp32(x, w, b);
        y.backward([upstream]);

        var (x32, w32, b32) = (x.detach().to(ScalarType.Float32).requires_grad_(true), w.detach().to(ScalarType.Float32).requires_grad_(true),
                               b.detach().to(ScalarType.Float32).requires_grad_(true));
        var y32 = F.linear(x32, w32, b32);
        y32.backward([upstream.to(ScalarType.Float32)]);

        AssertRoundedEqual(y32, y, "output");
        AssertRoundedEqual(x32.grad!, x.grad!, "input gradient");
        AssertRoundedEqual(w32.grad!, w.grad!, "weight gradient");
        AssertRoundedEqual(b32.grad!, b.grad!, "bias gradient");
    }

    [Fact]
    public void Gradients_accumulate_over_backward_passes_and_reach_a_weight_through_its_graph()
    {
        // A parameter's gradient is added into .grad by the function itself (GradientHandoff), as autograd's
        // AccumulateGrad would; a weight computed from a parameter gets its gradient through autograd.
        using var scope = NewDisposeScope();
        manual_seed(8);
        var w = new Parameter(Bf16(16, 32));
        var source = new Parameter(Bf16(16, 32));
        var (x1, x2) = (Bf16(3, 32), Bf16(5, 32));
        var (up1, up2) = (Bf16(3, 16), Bf16(5, 16));
        Bf16Widening.LinearInFp32(x1, w, null).backward([up1]);
        Bf16Widening.LinearInFp32(x2, w, null).backward([up2]);
        Bf16Widening.LinearInFp32(x1, source * 2, null).backward([up1]);   // d/dsource = 2 · up1ᵀ x1

        var expectedW = up1.to(ScalarType.Float32).t().matmul(x1.to(ScalarType.Float32)).to(ScalarType.BFloat16).to(ScalarType.Float32)
                        + up2.to(ScalarType.Float32).t().matmul(x2.to(ScalarType.Float32)).to(ScalarType.BFloat16).to(ScalarType.Float32);
        AssertRoundedEqual(expectedW, w.grad!, "accumulated weight gradient");
        AssertRoundedEqual(up1.to(ScalarType.Float32).t().matmul(x1.to(ScalarType.Float32)) * 2, source.grad!, "gradient through the weight's graph");
    }

    [Fact]
    public void A_frozen_weight_gets_no_gradient_and_the_input_still_does()
    {
        using var scope = NewDisposeScope();
        var x = Bf16(5, 16).requires_grad_(true);
        var w = new Parameter(Bf16(8, 16), requires_grad: false);
        Bf16Widening.LinearInFp32(x, w, null).sum().backward();
        Assert.Null(w.grad);
        Assert.NotNull(x.grad);
        Assert.Equal(new long[] { 5, 16 }, x.grad!.shape);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Attention_output_and_gradients_are_the_fp32_results_rounded(bool causal)
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var (q, k, v) = (Bf16(2, 4, 16, 8).requires_grad_(true), Bf16(2, 4, 16, 8).requires_grad_(true), Bf16(2, 4, 16, 8).requires_grad_(true));
        // Without the causal flag, a padding-style mask: the last 3 keys of the second sequence are hidden.
        var mask = causal ? null : ones(2, 1, 16, 16, dtype: ScalarType.Bool).index_put_(tensor(false), TensorIndex.Single(1), TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(13));
        var upstream = Bf16(2, 4, 16, 8);

        var y = Bf16Widening.AttentionInFp32(q, k, v, mask, causal);
        y.backward([upstream]);

        var (q32, k32, v32) = (q.detach().to(ScalarType.Float32).requires_grad_(true), k.detach().to(ScalarType.Float32).requires_grad_(true),
                               v.detach().to(ScalarType.Float32).requires_grad_(true));
        var y32 = F.scaled_dot_product_attention(q32, k32, v32, mask, 0, is_casual: causal);
        y32.backward([upstream.to(ScalarType.Float32)]);

        AssertRoundedEqual(y32, y, "output");
        AssertRoundedEqual(q32.grad!, q.grad!, "q gradient");
        AssertRoundedEqual(k32.grad!, k.grad!, "k gradient");
        AssertRoundedEqual(v32.grad!, v.grad!, "v gradient");
    }

    [Fact]
    public void Fp32_operands_take_the_plain_path()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 8);
        var w = randn(4, 8);
        Assert.True(Bf16Widening.Linear(x, w, null).equal(F.linear(x, w)).all().item<bool>());
    }
}
