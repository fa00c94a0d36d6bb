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
    public static Tensor Apply(Tensor rows, Tensor weight, Tensor targets, long chunkRows) => apply(rows, weight, targets, chunkRows);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (rows, weight, targets, chunk) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (long)vars[3]);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var n = rows.shape[0];
        var w32 = weight.dtype == ScalarType.Float32 ? weight : weight.to(ScalarType.Float32);
        var gradRows = rows.requires_grad ? empty(rows.shape, ScalarType.Float32, rows.device) : null;   // every row is written below
        var gradWeight = weight.requires_grad ? zeros(weight.shape, ScalarType.Float32, weight.device) : null;
        var loss = zeros([], ScalarType.Float32, rows.device);
        // One [chunk, V] fp32 buffer serves every chunk, and the softmax is formed in it in place: a fresh tensor of
        // that size per operation would cost a page fault per 4 KiB on every chunk (about a fifth of the head's time).
        var buffer = empty([Math.Min(chunk, n), weight.shape[0]], ScalarType.Float32, rows.device);
        for (long start = 0; start < n; start += chunk)
        {
            using var step = NewDisposeScope();
            var count = Math.Min(chunk, n - start);
            var h = rows.narrow(0, start, count).to(ScalarType.Float32);                  // [c, H]
            var t = targets.narrow(0, start, count).unsqueeze(1);                          // [c, 1]
            var logits = buffer.narrow(0, 0, count).addmm_(h, w32.t(), beta: 0, alpha: 1); // [c, V] fp32
            var target = logits.gather(1, t);                                              // [c, 1]
            var max = logits.amax([1L], keepdim: true);                                    // [c, 1]
            var sum = logits.sub_(max).exp_().sum([1L], keepdim: true);                    // exp(logits - max), in place
            loss.add_((max + sum.log() - target).sum());                                   // logsumexp - target logit
            if (gradRows is null && gradWeight is null) continue;
            var d = logits.div_(sum);                                                      // softmax, in place
            d.scatter_add_(1, t, full([count, 1], -1f, ScalarType.Float32, d.device));     // softmax - one_hot
            gradRows?.narrow(0, start, count).addmm_(d, w32, beta: 0, alpha: 1);           // [c, H]
            gradWeight?.addmm_(d.t(), h);                                                   // [V, H], accumulated in place
        }
        // Kept past this scope until backward disposes them (autograd only keeps inputs and outputs for us).
        ctx.save_data("grads", new Gradients(gradRows?.DetachFromDisposeScope(), gradWeight?.DetachFromDisposeScope(), rows.dtype, weight.dtype));
        return loss.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var grads = (Gradients)ctx.get_data("grads");
        using var scale = gradOutput.to(ScalarType.Float32);
        Tensor? Scaled(Tensor? grad, ScalarType type)
        {
            if (grad is null) return null;
            using (grad) return grad.mul(scale).to(type);
        }
        return [Scaled(grads.Rows, grads.RowsType)!, Scaled(grads.Weight, grads.WeightType)!, null!, null!];
    }

    sealed record Gradients(Tensor? Rows, Tensor? Weight, ScalarType RowsType, ScalarType WeightType);
}
