namespace Sft.Training.Pipeline;

/// <summary>What to do with a sample longer than the sequence length.</summary>
public enum OverflowMode { Truncate, Drop }

public enum LimitOutcome { Kept, Truncated, Dropped }

/// <summary><c>seq_length</c> and the overflow rule: keep the first <see cref="SeqLength"/> tokens, or drop the sample.</summary>
public sealed record SequenceLimit(int SeqLength, OverflowMode Mode = OverflowMode.Truncate)
{
    public int SeqLength { get; } = SeqLength > 1 ? SeqLength
        : throw new ArgumentOutOfRangeException(nameof(SeqLength), SeqLength, "seq_length must be at least 2.");

    /// <summary>The sample within the limit, or null when it is dropped.</summary>
    public EncodedSample? Apply(EncodedSample sample, out LimitOutcome outcome)
    {
        if (sample.Length <= SeqLength) { outcome = LimitOutcome.Kept; return sample; }
        if (Mode == OverflowMode.Drop) { outcome = LimitOutcome.Dropped; return null; }
        outcome = LimitOutcome.Truncated;
        return sample with { InputIds = sample.InputIds[..SeqLength], Labels = sample.Labels[..SeqLength] };
    }
}
