using Sft.Training.Models;

namespace Sft.Bench;

/// <summary>
/// Model FLOPs per trained token, PaLM-style: 6·N for forward and backward through N matmul
/// parameters, plus 12·L·(nh·hd)·T for attention scores and values (full T×T, as PaLM counts it).
/// N is every parameter except the input-embedding lookup: the LM head is a matmul (tied or not), as
/// nanoGPT's estimate_mfu counts it. With LoRA the base weights are frozen, so their weight-gradient
/// matmuls are never run: 4·N for the base, 6·N for the adapters.
/// </summary>
public static class FlopsModel
{
    /// <summary>Parameters that take part in a matmul per token (the head included, the embedding lookup not).</summary>
    public static long MatmulParameters(ModelConfig c) =>
        c.ParameterCount() - (c.TieWordEmbeddings ? 0 : c.VocabSize * c.HiddenSize);

    public static double AttentionPerToken(ModelConfig c, long seq) =>
        12.0 * c.NumHiddenLayers * c.NumAttentionHeads * c.HeadDim * seq;

    public static double PerToken(ModelConfig c, long seq, bool lora, long adapterParameters) =>
        (lora ? 4.0 * MatmulParameters(c) + 6.0 * adapterParameters : 6.0 * MatmulParameters(c)) + AttentionPerToken(c, seq);
}
