using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Bench;

/// <summary>
/// Computed training memory (MB) of one step of this engine: weights + gradients + AdamW state +
/// the activations autograd keeps for backward. Bytes per token per decoder layer (s = bytes of the
/// compute dtype, H hidden, Q = nh·hd, K = nkv·hd, I intermediate, r LoRA rank), from what each op
/// of Decoder.cs saves:
///   two RMSNorms    2 × 12·H  (fp32: the input and the normalised copy are saved, plus the scaled output;
///                             bf16: an fp32 upcast, the fp32 normalised copy, its bf16 cast, the output)
///   attention       s·(6·Q + 3·K) + 4·nh  (q, rotate_half(q), rotated q; k, rotate_half(k), rotated k;
///                             expanded k and v; SDPA output; fp32 log-sum-exp per head)
///   MLP             4·s·I     (gate, silu(gate), up, their product)
///   LoRA            7·s·r     (each adapter's A output)
/// A layer under activation recompute keeps only its input (s·H), and backward rebuilds one layer at a time.
/// After the layers: the final norm (12·H) and the loss: the head's input rows (s·H) and the fp32
/// log-softmax the cross-entropy saves (4·V).
/// AdamW keeps two fp32 moments per trained parameter, and fp32 master weights for bf16 ones.
/// </summary>
public sealed record MemoryModel(double WeightsMb, double GradsMb, double OptimizerMb, double ActivationsMb)
{
    public double TotalMb => WeightsMb + GradsMb + OptimizerMb + ActivationsMb;

    const double Mb = 1024.0 * 1024.0;

    public static MemoryModel Estimate(ModelConfig c, ScalarType dtype, bool lora, long adapterParameters, int rank,
        long batch, long seq, int recomputeLayers)
    {
        double s = DtypeOption.Bytes(dtype), n = c.ParameterCount(), a = adapterParameters;
        var trained = lora ? a : n;
        var weights = (n + (lora ? a : 0)) * s;
        var grads = trained * s;
        var optimizer = trained * (8 + (dtype == ScalarType.Float32 ? 0 : 4));
        var activations = batch * seq * ActivationBytesPerToken(c, s, lora ? rank : 0, recomputeLayers);
        return new MemoryModel(weights / Mb, grads / Mb, optimizer / Mb, activations / Mb);
    }

    public static double LayerBytesPerToken(ModelConfig c, double s, int loraRank)
    {
        double h = c.HiddenSize, q = c.NumAttentionHeads * c.HeadDim, k = c.NumKeyValueHeads * c.HeadDim, i = c.IntermediateSize;
        return 2 * 12 * h + s * (6 * q + 3 * k) + 4 * c.NumAttentionHeads + 4 * s * i + 7 * s * loraRank;
    }

    static double ActivationBytesPerToken(ModelConfig c, double s, int loraRank, int recomputeLayers)
    {
        var recomputed = Math.Min(recomputeLayers, c.NumHiddenLayers);
        var layer = LayerBytesPerToken(c, s, loraRank);
        var layers = (c.NumHiddenLayers - recomputed) * layer + recomputed * s * c.HiddenSize + (recomputed > 0 ? layer : 0);
        var tail = 12 * c.HiddenSize + s * c.HiddenSize + 4 * c.VocabSize;
        return layers + tail;
    }
}
