using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// The LM head and the cross-entropy fused, chunk by chunk over the counted rows (the approach of Liger's
/// fused linear cross-entropy): the forward pass computes each chunk's fp32 logits, its loss, and right away
/// the gradients with respect to the rows and the head weight; backward only scales those by the incoming
/// gradient. The [tokens, vocab] logits (and their softmax) never exist beyond one chunk, which for Qwen's
/// 151,936-token vocabulary is most of a small model's activation memory.
/// </summary>
public sealed class FusedLinearCrossEntropy : autograd.SingleTensorFunction<FusedLinearCrossEntropy>
{
    public override string Name => "FusedLinearCrossEntropy";

    /// <summary>Summed loss of <paramref name="rows"/> <c>[N, H]</c> through <paramref name="weight"/> <c>[V, H]</c> against <paramref name="targets"/> <c>[N]</c>.</summary>
    /// <param name="widenedSliceRows">vocabulary rows of a non-fp32 head widened at a time; default
    /// <see cref="WidenedSliceBytes"/> of fp32. An fp32 head is used whole, as it is.</param>
    /// <param name="logits">where the chunks' fp32 logits are formed: a buffer kept between calls (the model's), or
    /// null for one allocated by this call</param>
    public static Tensor Apply(Tensor rows, Tensor weight, Tensor targets, long chunkRows, long? widenedSliceRows = null,
        LogitsBuffer? logits = null) =>
        apply(rows, weight, targets, chunkRows, weight.dtype == ScalarType.Float32
            ? weight.shape[0]
            : widenedSliceRows ?? Math.Max(1, WidenedSliceBytes / (4 * weight.shape[1])), GradientHandoff.For(rows, weight)!, logits!);

    /// <summary>Rows of a non-fp32 head widened to fp32 at a time: 64 MiB of fp32 (a whole fp32 copy of Qwen2.5-7B's head
    /// would be 2.2 GB).</summary>
    public const long WidenedSliceBytes = 64L << 20;

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        // slice: vocabulary rows per step over the head; a bf16 head is widened one slice at a time, within each chunk.
        var (rows, weight, targets, chunk, slice) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (long)vars[3], (long)vars[4]);
        var handoff = vars[5] as GradientHandoff;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (n, vocab) = (rows.shape[0], weight.shape[0]);
        var gradRows = handoff?.Needs(0) == true ? zeros(rows.shape, ScalarType.Float32, rows.device) : null;
        var gradWeight = handoff?.Needs(1) == true ? HeadGradient(weight, handoff, n) : null;
        var loss = zeros([], ScalarType.Float32, rows.device);
        // One [chunk, V] fp32 buffer serves every chunk, and the softmax is formed in it in place: a fresh tensor of
        // that size per operation would cost a page fault per 4 KiB on every chunk (about a fifth of the head's time).
        // The model keeps it between steps for the same reason (16k faults a step at the 150M bench model).
        var kept = vars[6] as LogitsBuffer;
        var buffer = kept is not null
            ? kept.Rows(Math.Min(chunk, n), vocab, rows.device)
            : empty([Math.Min(chunk, n), vocab], ScalarType.Float32, rows.device);
        for (long start = 0; start < n; start += chunk)
        {
            using var step = NewDisposeScope();
            var count = Math.Min(chunk, n - start);
            var h = rows.narrow(0, start, count).to(ScalarType.Float32);                  // [c, H]
            var t = targets.narrow(0, start, count).unsqueeze(1);                          // [c, 1]
            var logits = buffer.narrow(0, 0, count);                                       // [c, V] fp32
            ForEachSlice(weight, slice, kept, (from, size, w) => logits.narrow(1, from, size).addmm_(h, w.t(), beta: 0, alpha: 1));
            var target = logits.gather(1, t);                                              // [c, 1]
            var max = logits.amax([1L], keepdim: true);                                    // [c, 1]
            var sum = logits.sub_(max).exp_().sum([1L], keepdim: true);                    // exp(logits - max), in place
            loss.add_((max + sum.log() - target).sum());                                   // logsumexp - target logit
            if (gradRows is null && gradWeight is null) continue;
            var d = logits.div_(sum);                                                      // softmax, in place
            d.scatter_add_(1, t, full([count, 1], -1f, ScalarType.Float32, d.device));     // softmax - one_hot
            var rowsGrad = gradRows?.narrow(0, start, count);
            ForEachSlice(weight, slice, kept, (from, size, w) =>
            {
                var part = d.narrow(1, from, size);                                        // [c, slice]
                rowsGrad?.addmm_(part, w);                                                  // [c, H]
                gradWeight?.narrow(0, from, size).addmm_(part.t(), h, beta: start == 0 ? 0 : 1);  // [slice, H], accumulated in place
            });
        }
        // Kept past this scope until backward disposes them (autograd only keeps inputs and outputs for us).
        if (handoff is not null)
            ctx.save_data("grads", new Gradients(gradRows?.DetachFromDisposeScope(), gradWeight?.DetachFromDisposeScope(), rows.dtype, weight.dtype, handoff));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The head's fp32 gradient sum, which the first chunk overwrites (addmm with beta 0) and the others add to. For an
    /// fp32 head that has no gradient yet it is the buffer that becomes its <c>.grad</c>, kept between steps
    /// (<see cref="SpareGradients"/>); otherwise a new fp32 tensor.
    /// </summary>
    static Tensor HeadGradient(Tensor weight, GradientHandoff handoff, long rows)
    {
        Tensor sum;
        if (weight.dtype == ScalarType.Float32 && handoff.Parameter(1) is { } head && !HasGrad(head)) sum = SpareGradients.Take(head);
        else sum = empty(weight.shape, ScalarType.Float32, weight.device);
        return rows == 0 ? sum.zero_() : sum;

        static bool HasGrad(Tensor parameter)
        {
            using var grad = parameter.grad;
            return grad is not null;
        }
    }

    /// <summary>
    /// Calls <paramref name="body"/> with (first row, rows, fp32 rows) for each slice of the head's vocabulary rows. A
    /// non-fp32 slice is widened into the kept buffer's second tensor when there is one (one 64 MiB block for every
    /// slice of every chunk and step), otherwise into a new tensor.
    /// </summary>
    static void ForEachSlice(Tensor weight, long slice, LogitsBuffer? kept, Action<long, long, Tensor> body)
    {
        var vocab = weight.shape[0];
        for (long from = 0; from < vocab; from += slice)
        {
            // Its own scope: a view the body takes of a new widened slice (w.t()) would otherwise keep every slice's
            // storage alive until the chunk ends, which is the whole head in fp32 again.
            using var sliceScope = NewDisposeScope();
            var size = Math.Min(slice, vocab - from);
            var rows = weight.narrow(0, from, size);
            var wide = rows.dtype == ScalarType.Float32 ? rows
                : kept is not null ? kept.Widened(rows, Math.Min(slice, vocab))
                : rows.to(ScalarType.Float32);
            body(from, size, wide);
        }
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var received = GradientHandoff.Receive(gradOutput);
        using var scope = NewDisposeScope();
        var grads = (Gradients)ctx.get_data("grads");
        var scale = gradOutput.to(ScalarType.Float32);
        Tensor? Scaled(Tensor? grad, ScalarType type)
        {
            if (grad is null) return null;
            scope.Attach(grad);               // an fp32 sum that is narrowed or added into a parameter is freed when backward ends
            grad.mul_(scale);
            return grad.dtype == type ? grad : grad.to(type);
        }
        return [grads.Handoff.Give(0, Scaled(grads.Rows, grads.RowsType))!, grads.Handoff.Give(1, Scaled(grads.Weight, grads.WeightType))!,
                null!, null!, null!, null!, null!];
    }

    sealed record Gradients(Tensor? Rows, Tensor? Weight, ScalarType RowsType, ScalarType WeightType, GradientHandoff Handoff);
}

/// <summary>
/// The fused loss's fp32 buffers, kept by their model from one call to the next so that they are not mapped and
/// faulted in afresh every step: the logits buffer (<c>[rows, vocab]</c>), which grows to the most rows asked for,
/// and, for a head that is not fp32, the slice of it widened to fp32 for one product. One loss at a time per buffer
/// (a model's training and evaluation run one after the other).
/// </summary>
public sealed class LogitsBuffer : IDisposable
{
    Tensor? _buffer;
    Tensor? _widened;

    /// <summary>A <c>[rows, vocab]</c> fp32 view of the buffer (contents undefined), in the caller's dispose scope.</summary>
    public Tensor Rows(long rows, long vocab, Device device) => Fit(ref _buffer, rows, vocab, device).narrow(0, 0, rows);

    /// <summary>
    /// <paramref name="rows"/> <c>[n, H]</c> (a slice of a bf16 head) copied into a kept fp32 block of
    /// <paramref name="sliceRows"/> rows, as a <c>[n, H]</c> view in the caller's dispose scope; valid until the next call.
    /// </summary>
    public Tensor Widened(Tensor rows, long sliceRows)
    {
        var n = rows.shape[0];
        if (n > sliceRows) throw new ArgumentOutOfRangeException(nameof(rows), $"{n} rows do not fit a slice of {sliceRows}.");
        return Fit(ref _widened, sliceRows, rows.shape[1], rows.device).narrow(0, 0, n).copy_(rows);
    }

    /// <summary><paramref name="held"/>, replaced by a new fp32 <c>[rows, columns]</c> tensor on <paramref name="device"/>
    /// unless it already has at least that many rows of that width there.</summary>
    static Tensor Fit(ref Tensor? held, long rows, long columns, Device device)
    {
        if (held is null || held.shape[0] < rows || held.shape[1] != columns || held.device_type != device.type
            || held.device_index != device.index)
        {
            held?.Dispose();
            held = null;
            held = empty([rows, columns], ScalarType.Float32, device).DetachFromDisposeScope();
        }
        return held;
    }

    /// <summary>Bytes held.</summary>
    public long Bytes => (_buffer?.NumberOfElements ?? 0) * 4 + (_widened?.NumberOfElements ?? 0) * 4;

    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
        _widened?.Dispose();
        _widened = null;
    }
}
