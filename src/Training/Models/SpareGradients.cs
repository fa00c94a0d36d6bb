using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// Gradient buffers of large parameters (the embedding matrix, the LM head) kept from one step to the next.
/// glibc serves every block over 32 MiB with a fresh mmap and unmaps it when it is freed, so a gradient of that
/// size allocated anew each step is faulted in again, 4 KiB at a time, on every step: two 98 MB buffers, 48k
/// faults, at the 150M bench model's fp32 step. The optimizer's <c>ZeroGrad</c> gives such a gradient back here
/// (<see cref="Keep"/>) instead of freeing it, but only for a parameter whose gradient is formed by code here
/// that takes it again (<see cref="Take"/>: the embedding lookup and the fused head + loss), and the next step
/// overwrites it. The spare is memory a step needs anyway: it is that parameter's gradient, held from the end
/// of one step to the backward of the next, as a zeroed gradient would be.
/// </summary>
public static class SpareGradients
{
    /// <summary>Gradients of at least this size are kept: glibc's largest mmap threshold, above which every allocation faults.</summary>
    public const long MinBytes = 32L << 20;

    sealed class Slot
    {
        public Tensor? Spare;
        public bool Taken;   // since the last Keep: a producer that stops taking (a tied head's rows added into its gradient) gets nothing held
    }

    static readonly ConditionalWeakTable<Tensor, Slot> s_slots = [];

    /// <summary>
    /// A buffer for <paramref name="parameter"/>'s gradient (its shape and dtype, contents undefined): the one
    /// <see cref="Keep"/> holds, or a new one. From then on <see cref="Keep"/> holds this parameter's gradient
    /// between steps. The caller owns the result (it is in the current dispose scope).
    /// </summary>
    public static Tensor Take(Tensor parameter)
    {
        var slot = s_slots.GetOrCreateValue(parameter);
        var spare = slot.Spare;
        slot.Spare = null;
        slot.Taken = true;
        if (spare is not null && spare.shape.SequenceEqual(parameter.shape) && spare.dtype == parameter.dtype)
        {
            CurrentDisposeScope?.Attach(spare);   // back in the caller's scope, as a new tensor would be
            return spare;
        }
        spare?.Dispose();
        return empty_like(parameter);
    }

    /// <summary>
    /// Holds <paramref name="grad"/> (no longer the parameter's <c>.grad</c>) for the next <see cref="Take"/> when it
    /// is large and <paramref name="parameter"/>'s gradient was formed in a buffer from <see cref="Take"/> since the last
    /// call; otherwise returns false and the caller disposes it.
    /// </summary>
    public static bool Keep(Tensor parameter, Tensor grad)
    {
        if (grad.NumberOfElements * grad.ElementSize < MinBytes) return false;
        if (!s_slots.TryGetValue(parameter, out var slot) || slot.Spare is not null || !slot.Taken) return false;
        slot.Taken = false;
        slot.Spare = grad.DetachFromDisposeScope();
        return true;
    }

    /// <summary>Frees <paramref name="parameter"/>'s spare, if any (when its optimizer is disposed).</summary>
    public static void Drop(Tensor parameter)
    {
        if (!s_slots.TryGetValue(parameter, out var slot)) return;
        slot.Spare?.Dispose();
        slot.Spare = null;
    }

    /// <summary>Whether a spare is held for <paramref name="parameter"/> (for tests and diagnostics).</summary>
    public static bool Holds(Tensor parameter) => s_slots.TryGetValue(parameter, out var slot) && slot.Spare is not null;
}
