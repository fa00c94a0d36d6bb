using System.Globalization;
using System.Text;

namespace Sft.Training.Config.Memory;

/// <summary>One part of the estimate, in bytes, with how it was counted.</summary>
public sealed record MemoryComponent(string Name, long Bytes, string Detail);

/// <summary>
/// Estimated memory of one training process (one device), in bytes per component. Activations are an
/// upper bound for one micro-batch; allocator overhead and framework workspace come on top.
/// </summary>
public sealed record MemoryEstimate(
    long TotalParameters,
    long TrainableParameters,
    IReadOnlyList<MemoryComponent> Components,
    string Setup)
{
    public long TotalBytes => Components.Sum(c => c.Bytes);

    public long BytesOf(string name) => Components.FirstOrDefault(c => c.Name == name)?.Bytes ?? 0;

    public long WeightBytes => BytesOf(MemoryEstimator.Weights);
    public long MasterWeightBytes => BytesOf(MemoryEstimator.MasterWeights);
    public long GradientBytes => BytesOf(MemoryEstimator.Gradients);
    public long OptimizerBytes => BytesOf(MemoryEstimator.Optimizer);
    public long ActivationBytes => BytesOf(MemoryEstimator.Activations);

    /// <summary>Decimal gigabytes (10^9 bytes), as model cards quote them.</summary>
    public static string Gb(long bytes) => (bytes / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + " GB";

    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Memory estimate ({Setup}): {TotalParameters:N0} parameters, {TrainableParameters:N0} trainable.");
        foreach (var c in Components)
            text.AppendLine(CultureInfo.InvariantCulture, $"  {c.Name,-15} {Gb(c.Bytes),12}  {c.Detail}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"total",-15} {Gb(TotalBytes),12}");
        return text.ToString();
    }
}
