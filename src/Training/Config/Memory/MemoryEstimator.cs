namespace Sft.Training.Config.Memory;

/// <summary>What the estimate depends on besides the model's dimensions.</summary>
/// <param name="MicroBatch">samples per device per forward pass</param>
/// <param name="MaterializedAttention">the attention kernel keeps the [heads, T, T] probabilities
/// (the math path, e.g. on CPU); fused kernels on CUDA do not</param>
public sealed record MemoryInputs(
    DType ComputeDtype,
    DType ParamDtype,
    int MicroBatch,
    int SeqLength,
    LoraSection? Lora,
    RecomputeSection Recompute,
    bool MaterializedAttention);

/// <summary>
/// Counts bytes per component:
/// weights = all parameters in the compute dtype; master weights = trainable parameters again in the
/// parameter dtype when it differs (mixed precision); gradients = trainable parameters in the compute dtype;
/// optimizer = AdamW's two moments per trainable parameter in the parameter dtype; activations = tensors
/// autograd keeps per token: per decoder layer 7·hidden + 4·intermediate values in the compute dtype plus the
/// two RMSNorm inputs in float32 (plus heads·T attention probabilities when materialised; a recomputed layer
/// keeps only its input), the final norm, and the logits with their float32 log-softmax for the loss.
/// LoRA adds r values per adapted module and token (and the dropout mask and input when dropout &gt; 0).
/// </summary>
public static class MemoryEstimator
{
    public const string Weights = "weights";
    public const string MasterWeights = "master weights";
    public const string Gradients = "gradients";
    public const string Optimizer = "optimizer";
    public const string Activations = "activations";

    public static int BytesOf(DType dtype) => dtype == DType.Float32 ? 4 : 2;

    public static MemoryEstimate Estimate(ModelDims dims, MemoryInputs inputs)
    {
        var baseParams = dims.ParameterCount();
        var adapted = inputs.Lora is { } lora
            ? lora.TargetModules.Select(dims.LinearModules().Select(m => m.Name))
                .Where(n => lora.ExcludeModules?.Matches(n) != true).ToHashSet()
            : [];
        var loraModules = dims.LinearModules().Where(m => adapted.Contains(m.Name)).ToList();
        long loraParams = inputs.Lora is { } l ? loraModules.Sum(m => (long)l.Rank * (m.InFeatures + m.OutFeatures)) : 0;
        var total = baseParams + loraParams;
        var trainable = inputs.Lora is null ? baseParams : loraParams;

        var c = BytesOf(inputs.ComputeDtype);
        var p = BytesOf(inputs.ParamDtype);
        var mixed = inputs.ComputeDtype != inputs.ParamDtype;
        var components = new List<MemoryComponent>
        {
            new(Weights, total * c, $"{total:N0} parameters × {c} bytes ({Name(inputs.ComputeDtype)})"),
            new(MasterWeights, mixed ? trainable * p : 0,
                mixed ? $"{trainable:N0} trainable × {p} bytes ({Name(inputs.ParamDtype)} copy for the optimizer)" : "none: parameters are kept in the compute dtype"),
            new(Gradients, trainable * c, $"{trainable:N0} trainable × {c} bytes"),
            new(Optimizer, trainable * 2 * p, $"AdamW exp_avg + exp_avg_sq: {trainable:N0} × 2 × {p} bytes"),
            Activation(dims, inputs, loraModules),
        };
        var setup = inputs.Lora is { } s
            ? $"LoRA r={s.Rank} on {loraModules.Count} modules"
            : "full fine-tuning";
        setup += $", {Name(inputs.ComputeDtype)} compute, {Name(inputs.ParamDtype)} parameters, batch {inputs.MicroBatch} × {inputs.SeqLength} tokens";
        return new MemoryEstimate(total, trainable, components, setup);
    }

    static MemoryComponent Activation(ModelDims d, MemoryInputs inputs, IReadOnlyList<LinearModule> loraModules)
    {
        var c = BytesOf(inputs.ComputeDtype);
        long tokens = (long)inputs.MicroBatch * inputs.SeqLength;
        long perLayer = (7L * d.HiddenSize + 4L * d.IntermediateSize) * c + 2L * d.HiddenSize * 4;
        if (inputs.MaterializedAttention) perLayer += (long)d.NumHeads * inputs.SeqLength * c;
        if (inputs.Lora is { } lora)
        {
            var modulesPerLayer = d.NumLayers == 0 ? 0 : loraModules.Count(m => m.Name != "lm_head") / (double)d.NumLayers;
            var inPerLayer = d.NumLayers == 0 ? 0 : loraModules.Where(m => m.Name != "lm_head").Sum(m => (long)m.InFeatures) / d.NumLayers;
            perLayer += (long)(modulesPerLayer * lora.Rank * c);
            if (lora.Dropout > 0) perLayer += inPerLayer * (c + 1);
        }

        var recomputed = !inputs.Recompute.Enabled ? 0 : Math.Min(d.NumLayers, inputs.Recompute.Layers ?? d.NumLayers);
        var kept = d.NumLayers - recomputed;
        long layers = kept * perLayer + recomputed * (long)d.HiddenSize * c + (recomputed > 0 ? perLayer : 0);
        long logitsPerToken = (long)d.VocabSize * (c + 4 + (c == 4 ? 0 : 4));
        long head = (long)d.HiddenSize * (4 + 2 * c) + logitsPerToken;
        var bytes = tokens * (layers + head);

        var detail = $"{tokens:N0} tokens × ({kept} layers kept" +
                     (recomputed > 0 ? $", {recomputed} recomputed" : "") +
                     (inputs.MaterializedAttention ? ", attention probabilities stored" : ", fused attention") +
                     $"; logits {MemoryEstimate.Gb(tokens * logitsPerToken)})";
        return new MemoryComponent(Activations, bytes, detail);
    }

    static string Name(DType dtype) => dtype == DType.Float32 ? "float32" : "bfloat16";
}
