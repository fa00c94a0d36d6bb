namespace Sft.Training.Pipeline;

/// <summary>
/// One tokenized training sample. <see cref="Labels"/> is aligned with <see cref="InputIds"/> (Hugging Face convention:
/// the model shifts, so label[t] is the target of position t-1); <see cref="IgnoreIndex"/> marks tokens without loss.
/// <see cref="Source"/> names the dataset file and row.
/// </summary>
public sealed record EncodedSample(int[] InputIds, int[] Labels, string Source)
{
    public const int IgnoreIndex = -100;

    public int Length => InputIds.Length;

    /// <summary>Targets the shifted loss uses: positions ≥ 1 whose label is not ignored.</summary>
    public int LossTokens => CountLossTokens(Labels);

    public static int CountLossTokens(ReadOnlySpan<int> labels)
    {
        var n = 0;
        for (var t = 1; t < labels.Length; t++) if (labels[t] != IgnoreIndex) n++;
        return n;
    }
}
