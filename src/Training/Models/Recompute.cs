using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// Activation recompute (gradient checkpointing) for one decoder layer, as a real autograd function:
/// the forward pass runs without building a graph and keeps only the layer's input; backward runs the
/// layer again with the same RNG state (so dropout masks repeat), back-propagates through that
/// recomputation (parameter gradients accumulate as usual) and hands the input's gradient on.
/// Memory then holds one layer's activations at a time instead of all of them.
/// </summary>
public sealed class Recompute : autograd.SingleTensorFunction<Recompute>
{
    public override string Name => "RecomputedDecoderLayer";

    /// <summary>Runs <paramref name="layer"/> on <paramref name="x"/> with recompute when gradients are being recorded.</summary>
    public static Tensor Apply(DecoderLayer layer, Tensor x, LayerInputs inputs)
    {
        if (!is_grad_enabled() || inputs.Cache is not null) return layer.forward(x, inputs);
        // With a frozen embedding (LoRA) the first input needs no gradient, and autograd would then never call
        // backward, leaving the layer's adapters without gradients (PEFT's enable_input_require_grads).
        if (!x.requires_grad) x = x.detach().requires_grad_(true);
        return apply(x, inputs.Cos, inputs.Sin, inputs.Mask ?? empty(0, dtype: ScalarType.Bool, device: x.device), layer);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (x, cos, sin, mask, layer) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (DecoderLayer)vars[4]);
        // Kept past the caller's dispose scope, and freed by backward: this layer's input is its checkpoint.
        ctx.save_data("saved", new SavedForBackward(x, cos, sin, mask));
        ctx.save_data("state", new Saved(layer, get_rng_state().DetachFromDisposeScope()));
        using var noGrad = no_grad();
        return layer.forward(x, new LayerInputs(cos, sin, mask.numel() == 0 ? null : mask, null));
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var received = GradientHandoff.Receive(gradOutput);
        using var saved = (SavedForBackward)ctx.get_data("saved");
        var (layer, rng) = (Saved)ctx.get_data("state");
        var (cos, sin, mask) = (saved[1], saved[2], saved[3]);
        var x = saved[0].detach().requires_grad_(true);
        var after = get_rng_state();
        set_rng_state(rng);
        using (enable_grad())
        {
            using var scope = NewDisposeScope();
            var y = layer.forward(x, new LayerInputs(cos, sin, mask.numel() == 0 ? null : mask, null));
            autograd.backward([y], [gradOutput]);
        }
        set_rng_state(after);
        after.Dispose();
        rng.Dispose();
        var grad = x.grad!;
        x.Dispose();                                      // the leaf would hold its gradient until the step's scope ends
        return [GradientHandoff.ToAutograd(grad)!, null!, null!, null!, null!];   // one per argument of apply: only x gets a gradient
    }

    // Not tensors of the graph: kept as plain data (the RNG state is disposed after use).
    sealed record Saved(DecoderLayer Layer, Tensor Rng);
}
