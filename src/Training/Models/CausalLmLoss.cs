using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sft.Training.Models;

/// <summary>
/// A loss summed over the counted tokens, with their count, so a trainer can normalise over a whole
/// accumulated batch (mean = Sum / Count). <see cref="Sum"/> is an fp32 scalar tensor (with grad when
/// the inputs have it); the caller owns it.
/// </summary>
public readonly record struct LossSum(Tensor Sum, long Count)
{
    public double Mean => Count == 0 ? double.NaN : Sum.item<float>() / Count;
}

/// <summary>
/// The Hugging Face causal-LM loss: labels are aligned with input_ids, logits[t] predicts labels[t+1],
/// labels equal to -100 are ignored, cross-entropy in fp32. Only the counted positions go through the
/// head and the softmax, in chunks of <c>chunkTokens</c> rows, so fp32 logits for every token of a
/// large vocabulary (Qwen: 151,936) are never built in one piece.
/// </summary>
public static class CausalLmLoss
{
    public const long IgnoreIndex = -100;

    /// <summary>
    /// The most bytes one chunk's fp32 logits may take. With a frozen head (LoRA) 64 MiB: 110 rows of Qwen's
    /// 151,936-token vocabulary, 10-20% slower for the loss than one 511-row chunk, and 240 MB less at the step's
    /// peak of a 0.5B model. With a trained head 256 MiB, because each chunk also accumulates the head's
    /// gradient with a matmul whose inner size is the chunk's rows, which slows sharply below a few hundred rows
    /// (bench/RESULTS.md); full fine-tuning's memory is the weights and optimizer state anyway.
    /// </summary>
    public const long FrozenHeadChunkBytes = 64L << 20, TrainedHeadChunkBytes = 256L << 20;

    /// <summary>Rows per chunk for a vocabulary: the chunk budget of fp32 logits, at least 16 rows.</summary>
    public static long ChunkRows(long vocabSize, bool headTrained) =>
        Math.Max(16, (headTrained ? TrainedHeadChunkBytes : FrozenHeadChunkBytes) / (4 * Math.Max(1, vocabSize)));

    /// <summary>Loss from final hidden states <c>[B, T, H]</c>: the model's head is applied chunk by chunk.
    /// When gradients are recorded this goes through <see cref="FusedLinearCrossEntropy"/>, so training never holds
    /// the [tokens, vocab] logits either.</summary>
    public static LossSum Compute(CausalLM model, Tensor hidden, Tensor labels, long? chunkTokens = null)
    {
        var head = model.HeadWeight;
        var chunk = chunkTokens ?? ChunkRows(model.Config.VocabSize, head is { requires_grad: true });
        if (!is_grad_enabled() || head is null || !(hidden.requires_grad || head.requires_grad))
            return Compute(hidden, labels, model.Logits, chunk);
        CheckShapes(hidden, labels);
        using var scope = NewDisposeScope();
        var (rows, targets) = CountedRows(hidden, labels);
        var sum = FusedLinearCrossEntropy.Apply(rows, head, targets, chunk, logits: model.LossLogits);
        return new LossSum(sum.MoveToOuterDisposeScope(), targets.shape[0]);
    }

    /// <summary>Loss from logits <c>[B, T, V]</c> already computed.</summary>
    public static LossSum Compute(Tensor logits, Tensor labels, long? chunkTokens = null) =>
        Compute(logits, labels, rows => rows, chunkTokens ?? ChunkRows(logits.shape[^1], headTrained: false));

    static LossSum Compute(Tensor states, Tensor labels, Func<Tensor, Tensor> head, long chunkTokens)
    {
        CheckShapes(states, labels);
        if (chunkTokens < 1) throw new ArgumentOutOfRangeException(nameof(chunkTokens), "chunkTokens must be >= 1.");
        using var scope = NewDisposeScope();
        var (rows, targets) = CountedRows(states, labels);                   // [N, H or V], [N]
        var count = targets.shape[0];
        var sum = zeros([], ScalarType.Float32, states.device);
        for (long start = 0; start < count; start += chunkTokens)
        {
            var n = Math.Min(chunkTokens, count - start);
            var logits = head(rows.narrow(0, start, n)).to(ScalarType.Float32);  // [n, V]
            sum = sum + F.cross_entropy(logits, targets.narrow(0, start, n), reduction: nn.Reduction.Sum);
        }
        return new LossSum(sum.MoveToOuterDisposeScope(), count);
    }

    /// <summary>
    /// Per-position losses <c>[B, T]</c> in fp32: entry t is the loss of predicting labels[t+1] from
    /// logits[t]; NaN where that label is ignored and at the last position.
    /// </summary>
    public static Tensor TokenLosses(Tensor logits, Tensor labels)
    {
        CheckShapes(logits, labels);
        using var scope = NewDisposeScope();
        var shifted = ShiftedLabels(labels);                                                // [B, T]
        var losses = F.cross_entropy(logits.to(ScalarType.Float32).flatten(0, 1), shifted.flatten(),
            ignore_index: IgnoreIndex, reduction: nn.Reduction.None).view(labels.shape);   // [B, T]
        return losses.masked_fill(shifted == IgnoreIndex, double.NaN).MoveToOuterDisposeScope();
    }

    /// <summary>labels[:, 1:] padded with -100 at the end: the target of every position.</summary>
    public static Tensor ShiftedLabels(Tensor labels) =>
        F.pad(labels.narrow(1, 1, labels.shape[1] - 1), [0, 1], value: IgnoreIndex);

    static (Tensor Rows, Tensor Targets) CountedRows(Tensor states, Tensor labels)
    {
        var shifted = ShiftedLabels(labels).flatten().to(states.device);                 // [B*T]
        var index = (shifted != IgnoreIndex).nonzero().flatten();                          // [N]
        var rows = states.flatten(0, 1).index_select(0, index);                            // [N, ...]
        return (rows, shifted.index_select(0, index));
    }

    static void CheckShapes(Tensor states, Tensor labels)
    {
        if (labels.dim() != 2 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"labels must be a [batch, length] int64 tensor, got {labels.dtype} [{string.Join(", ", labels.shape)}].");
        if (states.dim() != 3 || states.shape[0] != labels.shape[0] || states.shape[1] != labels.shape[1])
            throw new ArgumentException(
                $"labels [{string.Join(", ", labels.shape)}] do not match the model output [{string.Join(", ", states.shape)}] in batch and length.");
    }
}
