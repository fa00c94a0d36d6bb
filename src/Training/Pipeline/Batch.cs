using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Pipeline;

/// <summary>
/// One training batch, the arguments of the model's forward
/// <c>forward(inputIds [B,T], attentionMask [B,T] 1=token/0=pad, positionIds [B,T]?, segmentIds [B,T]?)</c>, all int64:
/// <list type="bullet">
/// <item><see cref="Labels"/>: aligned with the inputs, -100 where there is no loss (prompt, padding, and in packed
///   rows the first token of every sample, so no sample is trained to follow the previous one);</item>
/// <item><see cref="PositionIds"/>/<see cref="SegmentIds"/>: packed rows only — positions restart at 0 per sample and
///   segments number the samples of a row 1, 2, ... (0 on padding) so they do not attend to each other.</item>
/// </list>
/// Owns its tensors: dispose it (or let the step's dispose scope take them).
/// </summary>
public sealed class Batch : IDisposable
{
    public Tensor InputIds { get; }
    public Tensor Labels { get; }
    public Tensor AttentionMask { get; }
    public Tensor? PositionIds { get; }
    public Tensor? SegmentIds { get; }
    /// <summary>Samples in the batch (several per row when packed).</summary>
    public int SampleCount { get; }
    /// <summary>Non-padding tokens.</summary>
    public int TokenCount { get; }
    /// <summary>Targets of the shifted loss: the count to normalise the summed loss by.</summary>
    public int LossTokenCount { get; }

    public long Rows => InputIds.shape[0];
    public long Columns => InputIds.shape[1];

    public Batch(Tensor inputIds, Tensor labels, Tensor attentionMask, Tensor? positionIds, Tensor? segmentIds,
        int sampleCount, int tokenCount, int lossTokenCount)
    {
        InputIds = inputIds;
        Labels = labels;
        AttentionMask = attentionMask;
        PositionIds = positionIds;
        SegmentIds = segmentIds;
        SampleCount = sampleCount;
        TokenCount = tokenCount;
        LossTokenCount = lossTokenCount;
    }

    /// <summary>A copy on <paramref name="device"/> (this batch keeps its own tensors).</summary>
    public Batch To(Device device) => new(InputIds.to(device), Labels.to(device), AttentionMask.to(device),
        PositionIds?.to(device), SegmentIds?.to(device), SampleCount, TokenCount, LossTokenCount);

    public void Dispose()
    {
        InputIds.Dispose();
        Labels.Dispose();
        AttentionMask.Dispose();
        PositionIds?.Dispose();
        SegmentIds?.Dispose();
    }
}
