using Sft.Training.Lora;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Config.Memory;

/// <summary>What the estimate depends on besides the architecture.</summary>
/// <param name="ComputeDtype">Float32 or BFloat16: the dtype of weights, gradients and activations</param>
/// <param name="MicroBatch">samples per device per forward pass</param>
/// <param name="RecomputeLayers">decoder layers that keep only their input and recompute in backward</param>
/// <param name="MaterializedAttention">the attention kernel keeps the [heads, T, T] probabilities
/// (the math path, e.g. on CPU); fused kernels on CUDA do not</param>
public sealed record MemoryInputs(
    ScalarType ComputeDtype,
    int MicroBatch,
    int SeqLength,
    LoraSettings? Lora,
    int RecomputeLayers,
    bool MaterializedAttention);

/// <summary>
/// Counts bytes per component, following the engine: weights = all parameters in the compute dtype;
/// master weights = a float32 copy of the trainable parameters when they are bfloat16 (the AdamW optimizer keeps
/// one); gradients = trainable parameters in the compute dtype; optimizer = AdamW's two float32 moments per trainable
/// parameter; activations = what autograd keeps per token: per decoder layer 7·hidden + 4·intermediate values in
/// the compute dtype plus the two RMSNorm inputs in float32 (plus heads·T attention probabilities when
/// materialised; a recomputed layer keeps only its input, and one layer is rebuilt at a time), the final norm,
/// and the loss: one fp32 chunk of logits (<see cref="CausalLmLoss.ChunkRows"/>), the head's fp32 gradient when the head
/// is trained, and a 64 MiB widened slice of a bf16 head. LoRA adds r values per adapted module and token
/// (and the dropout mask and dropped input when dropout &gt; 0).
/// </summary>
public static class MemoryEstimator
{
    public const string Weights = "weights";
    public const string MasterWeights = "master weights";
    public const string Gradients = "gradients";
    public const string Optimizer = "optimizer";
    public const string Activations = "activations";

    public static int BytesOf(ScalarType dtype) => dtype == ScalarType.Float32 ? 4 : 2;

    public static MemoryEstimate Estimate(ModelConfig model, MemoryInputs inputs)
    {
        var baseParams = model.ParameterCount();
        var adapted = inputs.Lora is { } lora
            ? LinearModules.Adaptable(model).Where(m => lora.Targets.Matches(m.Name)).ToList()
            : [];
        var loraParams = inputs.Lora is { } l ? adapted.Sum(m => l.Rank * (m.InFeatures + m.OutFeatures)) : 0;
        var total = baseParams + loraParams;
        var trainable = inputs.Lora is null ? baseParams : loraParams;

        var c = BytesOf(inputs.ComputeDtype);
        var mixed = c != 4;
        var dtype = c == 4 ? "float32" : "bfloat16";
        var components = new List<MemoryComponent>
        {
            new(Weights, total * c, $"{total:N0} parameters × {c} bytes ({dtype})"),
            new(MasterWeights, mixed ? trainable * 4 : 0,
                mixed ? $"{trainable:N0} trainable × 4 bytes (float32 copy the optimizer updates)" : "none: parameters are float32"),
            new(Gradients, trainable * c, $"{trainable:N0} trainable × {c} bytes"),
            new(Optimizer, trainable * 2 * 4, $"AdamW exp_avg + exp_avg_sq: {trainable:N0} × 2 × 4 bytes (float32)"),
            Activation(model, inputs, adapted),
        };
        var setup = (inputs.Lora is { } s ? $"LoRA r={s.Rank} on {adapted.Count} modules" : "full fine-tuning")
                    + $", {dtype}, batch {inputs.MicroBatch} × {inputs.SeqLength} tokens";
        return new MemoryEstimate(total, trainable, components, setup);
    }

    static MemoryComponent Activation(ModelConfig m, MemoryInputs inputs, IReadOnlyList<LinearModule> adapted)
    {
        var c = BytesOf(inputs.ComputeDtype);
        long tokens = (long)inputs.MicroBatch * inputs.SeqLength;
        var layersCount = m.NumHiddenLayers;
        var perLayer = (7 * m.HiddenSize + 4 * m.IntermediateSize) * c + 2 * m.HiddenSize * 4;
        if (inputs.MaterializedAttention) perLayer += (long)m.NumAttentionHeads * inputs.SeqLength * c;
        if (inputs.Lora is { } lora && layersCount > 0)
        {
            perLayer += adapted.Count * (long)lora.Rank * c / layersCount;
            if (lora.Dropout > 0) perLayer += adapted.Sum(a => a.InFeatures) * (c + 1) / layersCount;
        }

        var recomputed = Math.Clamp(inputs.RecomputeLayers, 0, layersCount);
        var kept = layersCount - recomputed;
        var layers = kept * perLayer + recomputed * m.HiddenSize * c + (recomputed > 0 ? perLayer : 0);
        var headPerToken = m.HiddenSize * (4 + 2 * c);                      // final norm (fp32) and the rows the loss reads
        // The fused loss (FusedLinearCrossEntropy) holds one fp32 chunk of logits, never [tokens, vocab], and widens a
        // bf16 head one 64 MiB slice at a time; with a trained head it forms the head's fp32 gradient in the forward
        // pass and keeps it until backward, beside the gradient the gradients term counts.
        var headTrained = inputs.Lora is null;
        var chunkRows = Math.Min(tokens, CausalLmLoss.ChunkRows(m.VocabSize, headTrained));
        var logits = chunkRows * m.VocabSize * 4;
        var headBytes32 = (long)m.VocabSize * m.HiddenSize * 4;
        var headFp32 = (headTrained ? headBytes32 : 0) + (c != 4 ? Math.Min(headBytes32, FusedLinearCrossEntropy.WidenedSliceBytes) : 0);
        var bytes = tokens * (layers + headPerToken) + logits + headFp32;

        var detail = $"{tokens:N0} tokens × ({kept} layers kept" +
                     (recomputed > 0 ? $", {recomputed} recomputed" : "") +
                     (inputs.MaterializedAttention ? ", attention probabilities stored" : ", fused attention") +
                     $"); loss chunk {chunkRows:N0} × {m.VocabSize:N0} fp32 logits {MemoryEstimate.Gb(logits)}" +
                     (headFp32 > 0 ? $", fp32 head gradient and widened slice {MemoryEstimate.Gb(headFp32)}" : "");
        return new MemoryComponent(Activations, bytes, detail);
    }
}
