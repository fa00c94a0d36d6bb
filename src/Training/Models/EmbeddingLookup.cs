using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// Row lookup in an embedding matrix that needs a gradient, with the backward autograd's own index_select
/// would run (a zeroed [V, H] matrix, then the rows' gradients added at their ids, in order), except where that
/// matrix comes from: the parameter's <c>.grad</c> when it already has one (the tied LM head's gradient, or an
/// earlier micro-batch's), so the rows are added straight into it; otherwise the buffer kept from the last step
/// (<see cref="SpareGradients"/>), not a new allocation faulted in page by page every step. Rows looked up
/// for the padding id get no gradient, as HF's <c>padding_idx</c> gives them none.
/// </summary>
public sealed class EmbeddingLookup : autograd.SingleTensorFunction<EmbeddingLookup>
{
    public override string Name => "EmbeddingLookup";

    /// <summary>Rows <c>[N, H]</c> of <paramref name="weight"/> <c>[V, H]</c> at <paramref name="ids"/> <c>[N]</c>.</summary>
    public static Tensor Apply(Tensor weight, Tensor ids, long? paddingIdx) =>
        GradientHandoff.For(weight) is { } handoff ? apply(weight, ids, paddingIdx ?? -1, handoff) : weight.index_select(0, ids);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (weight, ids) = ((Tensor)vars[0], (Tensor)vars[1]);
        ctx.save_data("ids", new SavedForBackward(ids));
        ctx.save_data("padding", (long)vars[2]);
        ctx.save_data("handoff", (GradientHandoff)vars[3]);
        ctx.save_data("shape", weight.shape);
        using var noGrad = no_grad();
        return weight.index_select(0, ids);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var received = GradientHandoff.Receive(gradOutput);
        using var scope = NewDisposeScope();
        using var saved = (SavedForBackward)ctx.get_data("ids");
        var (ids, padding, handoff) = (saved[0], (long)ctx.get_data("padding"), (GradientHandoff)ctx.get_data("handoff"));
        var rows = gradOutput;                                                            // [N, H]
        if (padding >= 0) rows = rows.masked_fill((ids == padding).unsqueeze(1), 0);
        if (handoff.Parameter(0) is not { } weight)                                       // not a leaf: autograd takes it on
        {
            var sum = zeros((long[])ctx.get_data("shape"), rows.dtype, rows.device).index_add_(0, ids, rows, 1);
            return [GradientHandoff.ToAutograd(sum)!, null!, null!, null!];
        }
        using var existing = weight.grad;
        if (existing is not null)
        {
            existing.index_add_(0, ids, rows, 1);
            return [null!, null!, null!, null!];
        }
        var grad = SpareGradients.Take(weight).zero_().index_add_(0, ids, rows, 1);
        return [handoff.Give(0, grad)!, null!, null!, null!];
    }
}
