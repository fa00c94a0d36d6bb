using System.Runtime.Intrinsics;
using Sft.Training.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

/// <summary>
/// AdamW's update of one CPU parameter in a single pass over memory. The tensor path runs eight
/// element-wise operations (decay, lerp, mul, addcmul, sqrt, div, add, addcdiv, plus the bf16 copy-back),
/// each streaming whole tensors through memory again and one allocating a temporary; an optimizer step
/// is memory-bound, so doing all of it per element reads each tensor once. The arithmetic is the tensor
/// path's, operation for operation in fp32; a bf16 parameter is its fp32 master rounded to nearest-even.
/// </summary>
static unsafe class AdamWCpuKernel
{
    /// <summary>Per-step constants, already in the float precision the element-wise kernels use.</summary>
    /// <param name="Decay">1 - lr·weight_decay</param>
    /// <param name="Weight">1 - beta1, the lerp weight towards the gradient</param>
    /// <param name="Beta2">beta2</param>
    /// <param name="OneMinusBeta2">1 - beta2</param>
    /// <param name="Bias2Sqrt">sqrt(1 - beta2^t)</param>
    /// <param name="Eps">eps</param>
    /// <param name="StepSize">-lr / (1 - beta1^t)</param>
    /// <param name="GradScale">the clipping coefficient, applied to the gradient first as clipping's in-place multiply
    /// would (for a bf16 gradient libtorch rounds the coefficient and the product to bf16); 1 when not clipping</param>
    public readonly record struct Coefficients(float Decay, float Weight, float Beta2, float OneMinusBeta2, float Bias2Sqrt, float Eps, float StepSize,
        float GradScale = 1f);

    /// <summary>Whether this kernel can update these tensors: CPU, contiguous, fp32 state, fp32 or bf16 gradient.</summary>
    public static bool Applies(Tensor target, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? lowPrecision) =>
        Vector256.IsHardwareAccelerated
        && AllCpuContiguous(target, grad, expAvg, expAvgSq) && (lowPrecision is null || AllCpuContiguous(lowPrecision))
        && target.dtype == ScalarType.Float32 && expAvg.dtype == ScalarType.Float32 && expAvgSq.dtype == ScalarType.Float32
        && grad.dtype is ScalarType.Float32 or ScalarType.BFloat16
        && (lowPrecision is null || lowPrecision.dtype == ScalarType.BFloat16)
        && grad.numel() == target.numel() && (lowPrecision is null || lowPrecision.numel() == target.numel());

    /// <summary>Updates <paramref name="target"/> (the fp32 parameter or master) and both moments in place,
    /// and writes the rounded result into <paramref name="lowPrecision"/> when given.</summary>
    public static void Update(Tensor target, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? lowPrecision, Coefficients c)
    {
        var n = target.numel();
        var buffers = new Buffers(
            (float*)TensorMemory.DataPointer(target),
            grad.dtype == ScalarType.Float32 ? (float*)TensorMemory.DataPointer(grad) : null,
            grad.dtype == ScalarType.BFloat16 ? (ushort*)TensorMemory.DataPointer(grad) : null,
            (float*)TensorMemory.DataPointer(expAvg),
            (float*)TensorMemory.DataPointer(expAvgSq),
            lowPrecision is null ? null : (ushort*)TensorMemory.DataPointer(lowPrecision));
        CpuRanges.Run(n, 8, (_, from, to) => Run(buffers, from, to, c));
    }

    readonly struct Buffers(float* target, float* gradF32, ushort* gradBf16, float* expAvg, float* expAvgSq, ushort* low)
    {
        public readonly float* Target = target, GradF32 = gradF32, ExpAvg = expAvg, ExpAvgSq = expAvgSq;
        public readonly ushort* GradBf16 = gradBf16, Low = low;
    }

    static void Run(Buffers b, long start, long end, Coefficients c)
    {
        var i = start;
        var decay = Vector256.Create(c.Decay);
        var weight = Vector256.Create(c.Weight);
        var beta2 = Vector256.Create(c.Beta2);
        var oneMinusBeta2 = Vector256.Create(c.OneMinusBeta2);
        var bias2Sqrt = Vector256.Create(c.Bias2Sqrt);
        var eps = Vector256.Create(c.Eps);
        var stepSize = Vector256.Create(c.StepSize);
        var scale = b.GradF32 != null ? c.GradScale : Bf16.ToFloat(Bf16.Round(c.GradScale));
        var gradScale = Vector256.Create(scale);
        var scaled = c.GradScale != 1f;
        var lerpFromEnd = c.Weight >= 0.5f;
        for (; i + 8 <= end; i += 8)
        {
            var g = b.GradF32 != null ? Vector256.Load(b.GradF32 + i) : Bf16.Widen(Vector128.Load(b.GradBf16 + i));
            if (scaled) g = b.GradF32 != null ? g * gradScale : Bf16.Widen(Bf16.Round(g * gradScale));
            var p = Vector256.Load(b.Target + i) * decay;
            var m = Vector256.Load(b.ExpAvg + i);
            // torch.lerp: self + w·(end - self) for w < 0.5, end - (end - self)·(1 - w) otherwise
            m = lerpFromEnd ? g - (g - m) * (Vector256<float>.One - weight) : m + weight * (g - m);
            var v = Vector256.Load(b.ExpAvgSq + i) * beta2 + oneMinusBeta2 * g * g;
            var denominator = Vector256.Sqrt(v) / bias2Sqrt + eps;
            p += stepSize * (m / denominator);
            m.Store(b.ExpAvg + i);
            v.Store(b.ExpAvgSq + i);
            p.Store(b.Target + i);
            if (b.Low != null) Bf16.Round(p).Store(b.Low + i);
        }
        for (; i < end; i++)
        {
            var g = b.GradF32 != null ? b.GradF32[i] : Bf16.ToFloat(b.GradBf16[i]);
            if (scaled) g = b.GradF32 != null ? g * scale : Bf16.ToFloat(Bf16.Round(g * scale));
            var p = b.Target[i] * c.Decay;
            var m = b.ExpAvg[i];
            m = lerpFromEnd ? g - (g - m) * (1f - c.Weight) : m + c.Weight * (g - m);
            var v = b.ExpAvgSq[i] * c.Beta2 + c.OneMinusBeta2 * g * g;
            var denominator = MathF.Sqrt(v) / c.Bias2Sqrt + c.Eps;
            p += c.StepSize * (m / denominator);
            b.ExpAvg[i] = m;
            b.ExpAvgSq[i] = v;
            b.Target[i] = p;
            if (b.Low != null) b.Low[i] = Bf16.Round(p);
        }
    }

    static bool AllCpuContiguous(params Tensor[] tensors) =>
        tensors.All(t => t.device_type == DeviceType.CPU && t.is_contiguous());
}
