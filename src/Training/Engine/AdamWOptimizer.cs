using System.Text.RegularExpressions;
using Sft.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

/// <summary>AdamW hyper-parameters (PyTorch defaults; MindFormers' `optimizer` block maps onto them).</summary>
public sealed record AdamWOptions(double LearningRate = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999,
    double Eps = 1e-8, double WeightDecay = 0.01);

/// <summary>
/// AdamW as torch.optim.AdamW (decoupled decay: p *= 1 - lr·wd, then the bias-corrected Adam update),
/// with the Hugging Face Trainer's grouping: no weight decay for biases and norm weights.
/// State lives in fp32 whatever the parameter dtype: for bf16 parameters the optimizer keeps fp32
/// master weights, updates those, and copies them back, so rounding never accumulates in bf16.
/// State is keyed by parameter name so a checkpoint reads like the model it belongs to.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    sealed class Slot(string name, Parameter parameter, double weightDecay)
    {
        public string Name { get; } = name;
        public Parameter Parameter { get; } = parameter;
        public double WeightDecay { get; } = weightDecay;
        public Tensor ExpAvg { get; set; } = zeros_like(parameter, dtype: ScalarType.Float32).DetachFromDisposeScope();
        public Tensor ExpAvgSq { get; set; } = zeros_like(parameter, dtype: ScalarType.Float32).DetachFromDisposeScope();
        public Tensor? Master { get; set; } = parameter.dtype == ScalarType.Float32
            ? null : parameter.detach().to(ScalarType.Float32).DetachFromDisposeScope();
    }

    // HF Trainer.get_decay_parameter_names: biases and normalisation layers get no decay.
    static readonly Regex NoDecay = new(@"bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)", RegexOptions.Compiled | RegexOptions.IgnoreCase);

    readonly List<Slot> _slots;
    readonly AdamWOptions _options;

    /// <summary>Number of updates done so far (the "step" of Adam's bias correction).</summary>
    public long StepCount { get; private set; }

    /// <summary>The learning rate of the next update; the schedule sets it before each step.</summary>
    public double LearningRate { get; set; }

    public AdamWOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, AdamWOptions options)
    {
        _options = options;
        LearningRate = options.LearningRate;
        using var noGrad = no_grad();
        _slots = parameters.Where(p => p.Parameter.requires_grad)
            .Select(p => new Slot(p.Name, p.Parameter, IsDecayed(p.Name) ? options.WeightDecay : 0.0))
            .ToList();
        if (_slots.Count == 0) throw new ArgumentException("The optimizer got no trainable parameters.");
    }

    public static bool IsDecayed(string parameterName) => !NoDecay.IsMatch(parameterName);

    public IReadOnlyList<string> ParameterNames => _slots.Select(s => s.Name).ToArray();

    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Parameter);

    /// <summary>One AdamW update from the parameters' current gradients.</summary>
    /// <param name="gradScale">gradient clipping's coefficient (<see cref="GradientClipping.Coefficient"/>), applied
    /// on the way: the same values as scaling the gradients in place first, without a pass over them</param>
    public void Step(double gradScale = 1.0)
    {
        StepCount++;
        double b1 = _options.Beta1, b2 = _options.Beta2, lr = LearningRate;
        var biasCorrection1 = 1 - Math.Pow(b1, StepCount);
        var biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(b2, StepCount));
        using var noGrad = no_grad();
        foreach (var slot in _slots)
        {
            using var grad = slot.Parameter.grad;   // a new handle: disposing it leaves the parameter's gradient alone
            if (grad is null) continue;
            var p = slot.Master ?? slot.Parameter;
            if (FusedCpuKernel && AdamWCpuKernel.Applies(p, grad, slot.ExpAvg, slot.ExpAvgSq, slot.Master is null ? null : slot.Parameter))
            {
                AdamWCpuKernel.Update(p, grad, slot.ExpAvg, slot.ExpAvgSq, slot.Master is null ? null : slot.Parameter, new(
                    (float)(1 - lr * slot.WeightDecay), (float)(1 - b1), (float)b2, (float)(1 - b2), (float)biasCorrection2Sqrt,
                    (float)_options.Eps, (float)(-lr / biasCorrection1), (float)gradScale));
                continue;
            }
            using var scope = NewDisposeScope();
            if (gradScale != 1.0) grad.mul_(gradScale);
            var g = grad.dtype == ScalarType.Float32 ? grad : grad.to(ScalarType.Float32);
            if (slot.WeightDecay != 0) p.mul_(1 - lr * slot.WeightDecay);
            slot.ExpAvg.lerp_(g, 1 - b1);
            slot.ExpAvgSq.mul_(b2).addcmul_(g, g, value: 1 - b2);
            var denominator = slot.ExpAvgSq.sqrt().div_(biasCorrection2Sqrt).add_(_options.Eps);
            p.addcdiv_(slot.ExpAvg, denominator, value: -lr / biasCorrection1);
            if (slot.Master is not null) slot.Parameter.copy_(slot.Master);
        }
    }

    /// <summary>
    /// Updates CPU parameters with <see cref="AdamWCpuKernel"/> (one pass over memory) rather than tensor
    /// operations; on by default, off to compare the two.
    /// </summary>
    public bool FusedCpuKernel { get; init; } = true;

    /// <summary>
    /// Drops the gradients (torch's <c>zero_grad(set_to_none=True)</c>): the next backward then stores its
    /// gradients instead of adding them to zeroed ones, which saves a zeroing and an accumulation pass over
    /// every gradient, and no gradient memory is held during the next forward pass; except that the large
    /// gradients the embedding and the fused loss form again each step are kept for them to overwrite
    /// (<see cref="SpareGradients"/>): a fresh one would be faulted in page by page every step.
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var slot in _slots)
        {
            var grad = slot.Parameter.grad;
            if (grad is null) continue;
            slot.Parameter.grad = null;
            if (!SpareGradients.Keep(slot.Parameter, grad)) grad.Dispose();
        }
    }

    /// <summary>The optimizer state as named tensors: <c>{param}.exp_avg</c>, <c>{param}.exp_avg_sq</c>
    /// and, for low-precision parameters, <c>{param}.master</c>.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateTensors()
    {
        var list = new List<(string, Tensor)>();
        foreach (var slot in _slots)
        {
            list.Add(($"{slot.Name}.exp_avg", slot.ExpAvg));
            list.Add(($"{slot.Name}.exp_avg_sq", slot.ExpAvgSq));
            if (slot.Master is not null) list.Add(($"{slot.Name}.master", slot.Master));
        }
        return list;
    }

    /// <summary>Restores the state saved by <see cref="StateTensors"/>; every tensor must be present.</summary>
    public void LoadState(Func<string, Tensor, bool> readInto, long stepCount)
    {
        foreach (var slot in _slots)
        {
            Require(readInto($"{slot.Name}.exp_avg", slot.ExpAvg), slot.Name);
            Require(readInto($"{slot.Name}.exp_avg_sq", slot.ExpAvgSq), slot.Name);
            if (slot.Master is not null) Require(readInto($"{slot.Name}.master", slot.Master), slot.Name);
        }
        StepCount = stepCount;

        static void Require(bool found, string name)
        {
            if (!found) throw new InvalidDataException($"The optimizer state has no moments for '{name}': the checkpoint belongs to another model or training mode.");
        }
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.ExpAvg.Dispose();
            slot.ExpAvgSq.Dispose();
            slot.Master?.Dispose();
            SpareGradients.Drop(slot.Parameter);
        }
    }
}
