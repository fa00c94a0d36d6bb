using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// Builds the boolean SDPA mask <c>[B, 1, T, S]</c> (true = attend) from causality, key padding and
/// packed-sequence segments, or returns null when plain causal attention is exact (no padding, no
/// segments, no past), so SDPA can take its causal fast path.
/// </summary>
public static class AttentionMask
{
    /// <param name="attentionMask">[B, past + T], 1 = token, 0 = padding; or null.</param>
    /// <param name="segmentIds">[B, T] int64; a query attends only to keys of its own segment; or null.</param>
    /// <param name="past">positions already in the KV cache.</param>
    public static Tensor? Build(Tensor? attentionMask, Tensor? segmentIds, long batch, long length, long past, Device device)
    {
        var keys = past + length;
        if (attentionMask is not null && (attentionMask.dim() != 2 || attentionMask.shape[0] != batch || attentionMask.shape[1] != keys))
            throw new ArgumentException($"attention_mask must be [{batch}, {keys}] (batch, past + new tokens), got [{string.Join(", ", attentionMask.shape)}].");
        if (segmentIds is not null)
        {
            if (past > 0) throw new ArgumentException("segment_ids (packed sequences) cannot be combined with a KV cache.");
            if (segmentIds.dim() != 2 || segmentIds.shape[0] != batch || segmentIds.shape[1] != length)
                throw new ArgumentException($"segment_ids must be [{batch}, {length}] like input_ids, got [{string.Join(", ", segmentIds.shape)}].");
        }
        var padded = attentionMask is not null && HasPadding(attentionMask);
        if (segmentIds is null && !padded && (past == 0 || length == 1)) return null;

        using var scope = NewDisposeScope();
        var queryPos = arange(past, keys, ScalarType.Int64, device).view(length, 1);        // [T, 1]
        var keyPos = arange(keys, ScalarType.Int64, device).view(1, keys);                   // [1, S]
        var allowed = (keyPos <= queryPos).view(1, 1, length, keys).expand(batch, 1, length, keys); // [B, 1, T, S]
        if (padded) allowed = allowed & attentionMask!.to(device).@bool().view(batch, 1, 1, keys);
        if (segmentIds is not null)
        {
            var same = segmentIds.unsqueeze(2) == segmentIds.unsqueeze(1);                   // [B, T, S]
            allowed = allowed & same.unsqueeze(1);
        }
        // A query with nothing to attend to (a left-padding position) attends to itself, so no softmax
        // row is empty (no NaN). Its output is never counted.
        var nothing = allowed.any(-1, keepdim: true).logical_not();                          // [B, 1, T, 1]
        allowed = allowed | (nothing & (keyPos == queryPos).view(1, 1, length, keys));
        return allowed.MoveToOuterDisposeScope();
    }

    static bool HasPadding(Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return !attentionMask.@bool().all().item<bool>();
    }
}
