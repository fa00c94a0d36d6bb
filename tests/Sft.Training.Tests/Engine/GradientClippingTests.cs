using Sft.Training.Engine;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Engine;

public class GradientClippingTests
{
    /// <summary>Gradients are summed in registers (bf16 widened); the norm must be that of the (widened) values.</summary>
    [Fact]
    public void The_norm_is_that_of_the_widened_gradients_and_clipping_scales_them()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(21, CPU);
        // Sizes around the kernel's blocks, lanes and worker split (4,096 per block, 8 per lane, 65,536 to go parallel).
        long[] sizes = [1, 7, 8, 4095, 4097, 65_536, 200_003];
        var parameters = sizes.Select(n => new Parameter(zeros(n, ScalarType.BFloat16))).ToList();
        foreach (var (p, n) in parameters.Zip(sizes))
            p.grad = (randn([n], generator: generator) * 3).to(ScalarType.BFloat16);
        foreach (var n in new long[] { 300, 70_001 })
        {
            var fp32 = new Parameter(zeros(n));
            fp32.grad = randn([n], generator: generator);
            parameters.Add(fp32);
        }
        var before = parameters.Select(p => p.grad!.to(ScalarType.Float64)).ToList();
        var expected = Math.Sqrt(before.Sum(g => g.square().sum().item<double>()));

        var norm = GradientClipping.ClipByGlobalNorm(parameters, 1.0);

        Assert.True(Math.Abs(norm - expected) <= 1e-6 * expected, $"norm {norm}, expected {expected}");
        var coefficient = 1.0 / (expected + 1e-6);
        foreach (var (p, g) in parameters.Zip(before))
        {
            var want = (g * coefficient).to(p.grad!.dtype).to(ScalarType.Float64);
            var error = (p.grad!.to(ScalarType.Float64) - want).abs().max().item<double>();
            Assert.True(error <= (p.grad!.dtype == ScalarType.BFloat16 ? 1.0 / 128 : 1e-6) * want.abs().max().item<double>(), $"{p.numel()}: off by {error}");
        }
    }

    [Fact]
    public void A_non_contiguous_bf16_gradient_takes_the_tensor_path()
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(zeros(64, 32, dtype: ScalarType.BFloat16));
        p.grad = randn(32, 64).to(ScalarType.BFloat16).t();   // [64, 32], transposed: not contiguous
        var expected = p.grad!.to(ScalarType.Float64).square().sum().sqrt().item<double>();
        Assert.False(p.grad!.is_contiguous());
        Assert.Equal(expected, GradientClipping.ClipByGlobalNorm([p], 0), 4);
    }
}
