using System.Runtime.Intrinsics;
using Sft.Training.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

public static class GradientClipping
{
    /// <summary>
    /// The global L2 norm over all gradients (computed in fp32), and when <paramref name="maxNorm"/> is
    /// positive, scales them by min(1, maxNorm / (norm + 1e-6)) as torch.nn.utils.clip_grad_norm_ does.
    /// Returns the norm before clipping. (The trainer instead hands <see cref="Coefficient"/> to AdamW, which
    /// applies it while it reads the gradients.)
    /// </summary>
    public static double ClipByGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        var list = parameters.ToList();
        var norm = GlobalNorm(list);
        var coefficient = Coefficient(norm, maxNorm);
        if (coefficient < 1.0)
            using (no_grad())
                foreach (var p in list)
                {
                    using var g = p.grad;
                    g?.mul_(coefficient);
                }
        return norm;
    }

    /// <summary>What clipping multiplies the gradients by: min(1, maxNorm / (norm + 1e-6)), or 1 when
    /// <paramref name="maxNorm"/> is not positive (no clipping).</summary>
    public static double Coefficient(double norm, double maxNorm) => maxNorm > 0 ? Math.Min(1.0, maxNorm / (norm + 1e-6)) : 1.0;

    /// <summary>The global L2 norm over all gradients, computed in fp32 (0 when there are none).</summary>
    public static double GlobalNorm(IEnumerable<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return 0;
        // One read pass per gradient, allocating nothing of its size. A bf16 gradient on the CPU is widened in
        // registers; widening it with to(Float32) cost an fp32 copy of each gradient in turn, which glibc kept
        // (300 MB of RSS at the 150M bench model in bf16) and page-faulted in (a quarter of the step's clip time).
        // fp32 ones take the same kernel (torch's norm, square and stack per gradient: 64 -> 59 ms at the 150M model).
        var squares = new List<Tensor>();
        var onCpu = 0.0;
        foreach (var g in grads)
        {
            if (SumOfSquares.Applies(g)) onCpu += SumOfSquares.Of(g);
            else squares.Add(g.dtype == ScalarType.Float32 ? g.norm().square() : g.to(ScalarType.Float32).norm().square());
        }
        return Math.Sqrt(onCpu + (squares.Count == 0 ? 0 : stack(squares).sum().item<float>()));
    }

    /// <summary>Σx² of a contiguous fp32 or bf16 CPU tensor: 8 lanes at a time (bf16 widened in registers), summed
    /// in fp32 within blocks of 4,096 elements and in double across them.</summary>
    static unsafe class SumOfSquares
    {
        const long Block = 4096;

        public static bool Applies(Tensor t) =>
            t.dtype is ScalarType.Float32 or ScalarType.BFloat16 && t.device_type == DeviceType.CPU && t.is_contiguous()
            && Vector256.IsHardwareAccelerated;

        public static double Of(Tensor t)
        {
            var data = (byte*)TensorMemory.DataPointer(t);
            var bf16 = t.dtype == ScalarType.BFloat16;
            var n = t.numel();
            var parts = new double[CpuRanges.Count(n)];
            CpuRanges.Run(n, Block, (i, from, to) => parts[i] = Sum(data, bf16, from, to));
            return parts.Sum();
        }

        static double Sum(byte* data, bool bf16, long start, long end)
        {
            var f32 = (float*)data;
            var b16 = (ushort*)data;
            var total = 0.0;
            for (var from = start; from < end; from += Block)
            {
                var to = Math.Min(end, from + Block);
                // Four independent sums, so that each add does not wait for the one before it.
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                var i = from;
                if (bf16)
                    for (; i + 32 <= to; i += 32)
                    {
                        var (x0, x1) = (Bf16.Widen(Vector128.Load(b16 + i)), Bf16.Widen(Vector128.Load(b16 + i + 8)));
                        var (x2, x3) = (Bf16.Widen(Vector128.Load(b16 + i + 16)), Bf16.Widen(Vector128.Load(b16 + i + 24)));
                        a0 += x0 * x0; a1 += x1 * x1; a2 += x2 * x2; a3 += x3 * x3;
                    }
                else
                    for (; i + 32 <= to; i += 32)
                    {
                        var (x0, x1, x2, x3) = (Vector256.Load(f32 + i), Vector256.Load(f32 + i + 8), Vector256.Load(f32 + i + 16), Vector256.Load(f32 + i + 24));
                        a0 += x0 * x0; a1 += x1 * x1; a2 += x2 * x2; a3 += x3 * x3;
                    }
                for (; i + 8 <= to; i += 8)
                {
                    var x = bf16 ? Bf16.Widen(Vector128.Load(b16 + i)) : Vector256.Load(f32 + i);
                    a0 += x * x;
                }
                var block = (double)Vector256.Sum((a0 + a1) + (a2 + a3));
                for (; i < to; i++)
                {
                    var x = bf16 ? Bf16.ToFloat(b16[i]) : f32[i];
                    block += x * x;
                }
                total += block;
            }
            return total;
        }
    }
}
