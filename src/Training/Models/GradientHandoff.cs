using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// How the custom autograd functions here give their gradients back. A tensor that a TorchSharp backward returns
/// keeps its managed handle, in whatever dispose scope is current (the training step's), so it stays alive after
/// autograd has used it; and autograd, seeing that second reference, accumulates a parameter's gradient by copying
/// it instead of taking it. At the 150M bench model's bf16 step that held every weight gradient twice and every
/// activation gradient until the step ended: 470 MB.
/// <list type="bullet">
/// <item>A parameter's gradient (a leaf input that requires one) is added into its <c>.grad</c> here, as autograd's
/// AccumulateGrad would (it is set when there is none), and autograd gets null for that input.</item>
/// <item>Any other gradient goes to autograd, and its handle is disposed at the next custom backward on the same
/// thread (<see cref="Receive"/>): by then autograd holds its own reference.</item>
/// </list>
/// Grad hooks on those parameters do not run (none are used here).
/// </summary>
public sealed class GradientHandoff
{
    [ThreadStatic] static List<Tensor>? s_handedOver;

    readonly bool[] _needs;
    readonly Tensor?[] _parameters;

    GradientHandoff(Tensor?[] inputs)
    {
        _needs = inputs.Select(t => t is { requires_grad: true }).ToArray();
        _parameters = inputs.Select(t => t is { requires_grad: true, is_leaf: true } ? t : null).ToArray();
    }

    /// <summary>Read at apply time, before the function's forward runs: null when autograd records nothing (gradients
    /// are off, or no input needs one), and then the function keeps nothing for backward.</summary>
    public static GradientHandoff? For(params Tensor?[] inputs) =>
        is_grad_enabled() && inputs.Any(t => t is { requires_grad: true }) ? new GradientHandoff(inputs) : null;

    /// <summary>Whether input <paramref name="input"/> (its position in <see cref="For"/>) needs a gradient.</summary>
    public bool Needs(int input) => _needs[input];

    /// <summary>Input <paramref name="input"/> when it is a parameter (a leaf that needs a gradient), whose gradient
    /// <see cref="Give"/> adds into its <c>.grad</c>; otherwise null.</summary>
    public Tensor? Parameter(int input) => _parameters[input];

    /// <summary>
    /// What backward returns for input <paramref name="input"/>. For a parameter: null, once <paramref name="grad"/>
    /// is added into its <c>.grad</c> (the handle stays in the caller's dispose scope). Otherwise
    /// <paramref name="grad"/> itself, taken out of every dispose scope and released by the next backward.
    /// </summary>
    public Tensor? Give(int input, Tensor? grad)
    {
        if (grad is null) return null;
        if (_parameters[input] is not { } parameter) return ToAutograd(grad);
        using var existing = parameter.grad;
        if (existing is null) parameter.grad = grad;
        else existing.add_(grad);
        return null;
    }

    /// <summary>Hands <paramref name="grad"/> to autograd: out of every dispose scope, released by the next backward.</summary>
    public static Tensor? ToAutograd(Tensor? grad)
    {
        if (grad is null) return null;
        (s_handedOver ??= []).Add(grad.DetachFromDisposeScope());
        return grad;
    }

    /// <summary>
    /// Every custom backward here starts with <c>using var _ = GradientHandoff.Receive(gradOutput);</c>. It disposes the
    /// handles of gradients given to autograd by earlier backward calls on this thread (autograd has its own
    /// references by now), and returns <paramref name="gradOutput"/> for the caller to dispose when it is done:
    /// TorchSharp wraps each incoming gradient in a fresh handle, in the current dispose scope (the training step's),
    /// which would hold every incoming gradient until the step ends.
    /// </summary>
    public static Tensor Receive(Tensor gradOutput)
    {
        if (s_handedOver is { Count: > 0 } list)
        {
            foreach (var t in list) t.Dispose();
            list.Clear();
        }
        return gradOutput;
    }
}
