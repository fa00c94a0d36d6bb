namespace Sft.Bench;

/// <summary>
/// Issue 7's memory goals, checked on one step run. Measured = peak RSS above the process's RSS before the
/// model was built (the .NET runtime and libtorch's own code are not training memory).
/// LoRA: peak ≤ base weights + 15% (ratio = measured / base weights, limit 1.15).
/// Full fine-tuning: peak within 10% of weights + master weights + grads + AdamW state + activations
/// (the engine's <c>MemoryEstimator</c>; ratio = measured / that sum, pass when 0.90 ≤ ratio ≤ 1.10).
/// </summary>
public sealed record MemoryGoal(string Goal, double MeasuredMb, double ModelMb, string ModelTerms, double Ratio, double Limit, bool Pass)
{
    public const double LoraLimit = 1.15, FullTolerance = 0.10;

    public static MemoryGoal Check(bool lora, double peakAboveBaselineMb, StepBench.MemoryFigures model)
    {
        if (lora)
        {
            var ratio = peakAboveBaselineMb / model.WeightsMb;
            return new MemoryGoal("lora: peak <= base weights + 15%", peakAboveBaselineMb, model.WeightsMb, "base weights",
                Math.Round(ratio, 3), LoraLimit, ratio <= LoraLimit);
        }
        var full = peakAboveBaselineMb / model.TotalMb;
        return new MemoryGoal("full: peak within 10% of weights + grads + adamw + activations", peakAboveBaselineMb, model.TotalMb,
            $"weights {model.WeightsMb} + master {model.MasterWeightsMb} + grads {model.GradsMb} + adamw {model.OptimizerMb} + activations {model.ActivationsMb}",
            Math.Round(full, 3), 1 + FullTolerance, Math.Abs(full - 1) <= FullTolerance);
    }
}
