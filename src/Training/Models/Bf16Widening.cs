using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sft.Training.Models;

/// <summary>
/// bf16 matrix products on CPUs without bf16 matrix instructions. There libtorch emulates its bf16 GEMM
/// and attention kernels, measured 4-7× slower than fp32 on the same cores. Widening bf16 to fp32 is
/// exact, an fp32 product accumulates in fp32 as a bf16 GEMM does, and rounding the result back to bf16
/// gives the bf16 GEMM's answer (up to summation order) at fp32 speed. The autograd functions below keep
/// only the bf16 operands for backward, so activation memory stays that of bf16, and free them as soon as
/// their backward has run (<see cref="SavedForBackward"/>).
/// Used where the hardware lacks AVX512-BF16 and AMX-BF16 (x86 CPU only); elsewhere the plain ops run.
/// <c>SFT_BF16_MATMUL=native</c> or <c>=widen</c> overrides the choice (for benchmarks).
/// </summary>
public static class Bf16Widening
{
    /// <summary>Whether bf16 products on the CPU are computed in fp32 (decided once from the hardware).</summary>
    public static readonly bool Enabled = Decide(Environment.GetEnvironmentVariable("SFT_BF16_MATMUL"));

    static bool Decide(string? setting) => setting switch
    {
        "native" => false,
        "widen" => true,
        null or "" => !HasBf16MatrixInstructions(),
        _ => throw new ArgumentException($"SFT_BF16_MATMUL is '{setting}'; use native or widen (or leave it unset to decide from the CPU)."),
    };

    static bool HasBf16MatrixInstructions()
    {
        if (!X86Base.IsSupported) return true;                               // not x86: leave libtorch's kernels alone
        var (_, _, _, edx) = X86Base.CpuId(7, 0);
        var (eax, _, _, _) = X86Base.CpuId(7, 1);
        var amxBf16 = (edx & (1 << 22)) != 0;
        var avx512Bf16 = (eax & (1 << 5)) != 0;
        return amxBf16 || avx512Bf16;
    }

    /// <summary>Whether products with this operand go through fp32.</summary>
    public static bool Applies(Tensor x) => Enabled && x.dtype == ScalarType.BFloat16 && x.device_type == DeviceType.CPU;

    /// <summary>y = x·Wᵀ + b, through fp32 when the operands are bf16 on a CPU without bf16 matrix instructions.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) =>
        Applies(x) && weight.dtype == ScalarType.BFloat16 ? LinearInFp32(x, weight, bias) : F.linear(x, weight, bias);

    /// <summary>Scaled dot-product attention, through fp32 when q/k/v are bf16 on such a CPU (and there is no dropout).</summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask, double dropout, bool causal) =>
        Applies(q) && dropout == 0 ? AttentionInFp32(q, k, v, mask, causal) : F.scaled_dot_product_attention(q, k, v, mask, dropout, is_casual: causal);

    /// <summary>The widened linear whatever the hardware: bf16 operands, fp32 product, bf16 result and gradients.</summary>
    public static Tensor LinearInFp32(Tensor x, Tensor weight, Tensor? bias) =>
        WidenedLinear.apply(x, weight, bias ?? empty(0, ScalarType.BFloat16, x.device), GradientHandoff.For(x, weight, bias)!);

    /// <summary>The widened attention whatever the hardware (no dropout).</summary>
    public static Tensor AttentionInFp32(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal) =>
        WidenedAttention.apply(q, k, v, mask ?? empty(0, ScalarType.Bool, q.device), causal, GradientHandoff.For(q, k, v)!);

    static Tensor Wide(Tensor t) => t.to(ScalarType.Float32);

    /// <summary>Linear in fp32 from bf16 operands; backward forms each gradient in fp32 from the saved bf16 tensors.</summary>
    sealed class WidenedLinear : autograd.SingleTensorFunction<WidenedLinear>
    {
        public override string Name => "WidenedBf16Linear";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, weight, bias) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
            if (vars[3] is GradientHandoff handoff)
            {
                ctx.save_data("saved", new SavedForBackward(x, weight));
                ctx.save_data("handoff", handoff);
            }
            using var noGrad = no_grad();
            using var wx = Wide(x);
            using var ww = Wide(weight);
            using var wb = bias.numel() > 0 ? Wide(bias) : null;
            using var y = F.linear(wx, ww, wb);                                              // [..., out] fp32
            return y.to(ScalarType.BFloat16);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var received = GradientHandoff.Receive(gradOutput);
            using var scope = NewDisposeScope();
            using var saved = (SavedForBackward)ctx.get_data("saved");
            var handoff = (GradientHandoff)ctx.get_data("handoff");
            var (x, weight) = (saved[0], saved[1]);
            var g = Wide(gradOutput);                                                          // [..., out]
            var gx = handoff.Needs(0) ? g.matmul(Wide(weight)).to(ScalarType.BFloat16) : null;  // [..., in]
            var g2 = g.reshape(-1, g.shape[^1]);                                               // [N, out]
            var gw = handoff.Needs(1) ? g2.t().matmul(Wide(x).reshape(-1, x.shape[^1])).to(ScalarType.BFloat16) : null; // [out, in]
            var gb = handoff.Needs(2) ? g2.sum([0L]).to(ScalarType.BFloat16) : null;            // [out]
            return [handoff.Give(0, gx)!, handoff.Give(1, gw)!, handoff.Give(2, gb)!, null!];  // one per argument of apply
        }
    }

    /// <summary>SDPA in fp32 from bf16 q/k/v; backward recomputes the fp32 attention (about a third of its cost) rather than keeping fp32 copies.</summary>
    sealed class WidenedAttention : autograd.SingleTensorFunction<WidenedAttention>
    {
        public override string Name => "WidenedBf16Attention";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (q, k, v, mask, causal) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (bool)vars[4]);
            if (vars[5] is GradientHandoff handoff)
            {
                ctx.save_data("saved", new SavedForBackward(q, k, v, mask));
                ctx.save_data("handoff", handoff);
                ctx.save_data("causal", causal);
            }
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var y = Attend(Wide(q), Wide(k), Wide(v), mask, causal);
            return y.to(ScalarType.BFloat16).MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var received = GradientHandoff.Receive(gradOutput);
            using var scope = NewDisposeScope();
            using var saved = (SavedForBackward)ctx.get_data("saved");
            var handoff = (GradientHandoff)ctx.get_data("handoff");
            var causal = (bool)ctx.get_data("causal");
            var (q, k, v) = (Leaf(saved[0]), Leaf(saved[1]), Leaf(saved[2]));
            using (enable_grad())
            {
                var y = Attend(q, k, v, saved[3], causal);
                autograd.backward([y], [Wide(gradOutput)]);
            }
            Tensor? Narrowed(int input, Tensor leaf) => handoff.Needs(input) ? leaf.grad!.to(ScalarType.BFloat16) : null;
            return [handoff.Give(0, Narrowed(0, q))!, handoff.Give(1, Narrowed(1, k))!, handoff.Give(2, Narrowed(2, v))!, null!, null!, null!];
        }

        static Tensor Leaf(Tensor t) => Wide(t.detach()).requires_grad_(true);

        static Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor mask, bool causal) =>
            F.scaled_dot_product_attention(q, k, v, mask.numel() == 0 ? null : mask, 0, is_casual: causal);
    }
}
