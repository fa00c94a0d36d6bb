using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sft.Training.Models;

// The Qwen2 / Llama decoder-only causal LM, read top to bottom: RmsNorm, rotary embedding, attention
// (GQA, optional q/k/v/o bias), SwiGLU MLP, decoder layer, model, causal-LM head. The two families
// differ only in which projections carry a bias and in RoPE scaling, both taken from ModelConfig.
//
// Field names are the Hugging Face state_dict contract (model.layers.0.self_attn.q_proj.weight ...):
// state_dict() keys equal the safetensors names with no mapping table.
//
// Shapes: B batch, T query length, S key length (past + T), H hidden, nh / nkv heads, hd head_dim.

/// <summary>
/// Token embeddings (HF <c>nn.Embedding</c>): row lookup in <c>weight [V, H]</c>. With a padding id,
/// that row gets no gradient, as HF's <c>padding_idx</c> does. (TorchSharp's own Embedding is not used:
/// its from_pretrained module forwards with a different tensor than the one it registers.)
/// </summary>
public sealed class Embedding : nn.Module<Tensor, Tensor>
{
    public Parameter weight;
    readonly long? _paddingIdx;

    public Embedding(long count, long dim, long? paddingIdx, Device device, ScalarType dtype) : base(nameof(Embedding))
    {
        weight = new Parameter(empty([count, dim], dtype, device));
        _paddingIdx = paddingIdx;
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var flat = ids.flatten();                                                     // [B*T]
        var rows = EmbeddingLookup.Apply(weight, flat, _paddingIdx);                  // [B*T, H]; no gradient for the padding id
        return rows.view([.. ids.shape, weight.shape[1]]).MoveToOuterDisposeScope(); // [B, T, H]
    }
}

/// <summary>RMSNorm as HF computes it: normalise in fp32, cast back, then scale by the weight.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    public Parameter weight;
    readonly double _eps;

    public RmsNorm(long size, double eps, Device device, ScalarType dtype) : base(nameof(RmsNorm))
    {
        weight = new Parameter(empty(size, dtype, device));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x.to(ScalarType.Float32);
        var variance = h.pow(2).mean([-1], keepdim: true);
        h = h * rsqrt(variance + _eps);
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// RoPE in HF's rotate_half layout: dims j and j + hd/2 rotate together. <c>inv_freq</c> is a
/// non-persistent fp32 buffer (out of state_dict); "linear" and "llama3" scaling adjust it.
/// </summary>
public sealed class RotaryEmbedding : nn.Module<Tensor, (Tensor Cos, Tensor Sin)>
{
    Tensor inv_freq;

    public RotaryEmbedding(ModelConfig config, Device device) : base(nameof(RotaryEmbedding))
    {
        inv_freq = InverseFrequencies(config).to(device);
        register_buffer(nameof(inv_freq), inv_freq, persistent: false);
        RegisterComponents();
    }

    /// <summary>inv_freq = 1 / theta^(arange(0, hd, 2) / hd), in fp32, then rescaled per rope_scaling.</summary>
    public static Tensor InverseFrequencies(ModelConfig config)
    {
        var hd = config.HeadDim;
        var inv = new float[hd / 2];
        for (var i = 0; i < inv.Length; i++)
            inv[i] = (float)(1.0 / Math.Pow(config.RopeTheta, (float)(2 * i) / hd));
        if (config.RopeScaling is { } s) Rescale(inv, s);
        return tensor(inv, ScalarType.Float32);
    }

    static void Rescale(float[] inv, RopeScaling s)
    {
        if (s.Type == "linear")
        {
            for (var i = 0; i < inv.Length; i++) inv[i] = (float)(inv[i] / s.Factor);
            return;
        }
        // llama3: long wavelengths are divided by the factor, short ones kept, the band between smoothed.
        var lowFreqWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        var highFreqWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        for (var i = 0; i < inv.Length; i++)
        {
            var wavelen = 2 * Math.PI / inv[i];
            if (wavelen < highFreqWavelen) continue;
            if (wavelen > lowFreqWavelen) { inv[i] = (float)(inv[i] / s.Factor); continue; }
            var smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
            inv[i] = (float)((1 - smooth) * inv[i] / s.Factor + smooth * inv[i]);
        }
    }

    /// <summary>cos and sin <c>[B, T, hd]</c> in <paramref name="dtype"/> for integer positions <c>[B, T]</c>.</summary>
    public (Tensor Cos, Tensor Sin) forward(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv_freq;   // [B, T, hd/2]
        var emb = cat([freqs, freqs], -1);                                            // [B, T, hd]
        return (emb.cos().to(dtype).MoveToOuterDisposeScope(), emb.sin().to(dtype).MoveToOuterDisposeScope());
    }

    public override (Tensor Cos, Tensor Sin) forward(Tensor positionIds) => forward(positionIds, ScalarType.Float32);

    // TorchSharp's Module.to() skips non-persistent buffers; move this one by hand and keep it fp32.
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (device is null || inv_freq.device == device) return;
        var moved = inv_freq.to(device).DetachFromDisposeScope();
        inv_freq.Dispose();
        inv_freq = moved;
        _internal_buffers[nameof(inv_freq)] = (moved, false);
    }

    /// <summary>[x1, x2] -> [-x2, x1] over the last dimension, halves of hd/2.</summary>
    public static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        return cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
    }

    /// <summary>x * cos + rotate_half(x) * sin with cos/sin <c>[B, 1, T, hd]</c>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin) => x * cos + RotateHalf(x) * sin;
}

/// <summary>What every layer needs besides its input: RoPE tables, the attention mask, the KV cache.</summary>
/// <param name="Cos">[B, 1, T, hd] in the compute dtype.</param>
/// <param name="Sin">[B, 1, T, hd].</param>
/// <param name="Mask">[B, 1, T, S] bool (true = attend), or null for plain causal attention.</param>
/// <param name="Cache">keys/values of earlier tokens during generation, or null.</param>
public sealed record LayerInputs(Tensor Cos, Tensor Sin, Tensor? Mask, KvCache? Cache);

/// <summary>Multi-head attention with grouped K/V heads, RoPE, and SDPA.</summary>
public sealed class Attention : nn.Module
{
    public nn.Module<Tensor, Tensor> q_proj, k_proj, v_proj, o_proj;
    readonly int _layerIndex, _heads, _kvHeads;
    readonly long _headDim;
    readonly double _dropout;

    public Attention(ModelConfig c, int layerIndex, Device device, ScalarType dtype) : base(nameof(Attention))
    {
        _layerIndex = layerIndex; _heads = c.NumAttentionHeads; _kvHeads = c.NumKeyValueHeads; _headDim = c.HeadDim;
        _dropout = c.AttentionDropout;
        q_proj = Layers.Linear(c.HiddenSize, _heads * _headDim, c.QkvBias, device, dtype);
        k_proj = Layers.Linear(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, device, dtype);
        v_proj = Layers.Linear(c.HiddenSize, _kvHeads * _headDim, c.QkvBias, device, dtype);
        o_proj = Layers.Linear(_heads * _headDim, c.HiddenSize, c.OutputBias, device, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, LayerInputs inputs)
    {
        using var scope = NewDisposeScope();
        long B = x.shape[0], T = x.shape[1];
        var q = Layers.Project(q_proj, x).view(B, T, _heads, _headDim).transpose(1, 2);     // [B, nh, T, hd]
        var k = Layers.Project(k_proj, x).view(B, T, _kvHeads, _headDim).transpose(1, 2);   // [B, nkv, T, hd]
        var v = Layers.Project(v_proj, x).view(B, T, _kvHeads, _headDim).transpose(1, 2);   // [B, nkv, T, hd]
        q = RotaryEmbedding.Apply(q, inputs.Cos, inputs.Sin);
        k = RotaryEmbedding.Apply(k, inputs.Cos, inputs.Sin);
        if (inputs.Cache is { } cache) (k, v) = cache.Append(_layerIndex, k, v);   // [B, nkv, S, hd]
        if (_kvHeads != _heads)
        {
            // query head h reads kv head h / (nh / nkv)
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);                       // [B, nh, S, hd]
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        var causal = inputs.Mask is null && T > 1;
        var y = Bf16Widening.Attention(q, k, v, inputs.Mask, training ? _dropout : 0, causal); // [B, nh, T, hd]
        y = y.transpose(1, 2).reshape(B, T, _heads * _headDim);                       // [B, T, nh*hd]
        return Layers.Project(o_proj, y).MoveToOuterDisposeScope();
    }

    /// <summary>Swaps a projection (q_proj, k_proj, v_proj, o_proj) for another module at the same key, e.g. a LoRA wrapper.</summary>
    public void ReplaceProjection(string name, nn.Module<Tensor, Tensor> replacement)
    {
        switch (name)
        {
            case nameof(q_proj): q_proj = replacement; break;
            case nameof(k_proj): k_proj = replacement; break;
            case nameof(v_proj): v_proj = replacement; break;
            case nameof(o_proj): o_proj = replacement; break;
            default: throw new ArgumentException($"Attention has no projection '{name}' (q_proj, k_proj, v_proj, o_proj).", nameof(name));
        }
        _internal_submodules[name] = replacement;
    }
}

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    public nn.Module<Tensor, Tensor> gate_proj, up_proj, down_proj;

    public Mlp(ModelConfig c, Device device, ScalarType dtype) : base(nameof(Mlp))
    {
        gate_proj = Layers.Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, device, dtype);
        up_proj = Layers.Linear(c.HiddenSize, c.IntermediateSize, c.MlpBias, device, dtype);
        down_proj = Layers.Linear(c.IntermediateSize, c.HiddenSize, c.MlpBias, device, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Layers.Project(down_proj, F.silu(Layers.Project(gate_proj, x)) * Layers.Project(up_proj, x)).MoveToOuterDisposeScope();
    }

    /// <summary>Swaps gate_proj, up_proj or down_proj for another module at the same key.</summary>
    public void ReplaceProjection(string name, nn.Module<Tensor, Tensor> replacement)
    {
        switch (name)
        {
            case nameof(gate_proj): gate_proj = replacement; break;
            case nameof(up_proj): up_proj = replacement; break;
            case nameof(down_proj): down_proj = replacement; break;
            default: throw new ArgumentException($"Mlp has no projection '{name}' (gate_proj, up_proj, down_proj).", nameof(name));
        }
        _internal_submodules[name] = replacement;
    }
}

/// <summary>Pre-norm block: x + attn(norm(x)), then x + mlp(norm(x)).</summary>
public sealed class DecoderLayer : nn.Module
{
    public Attention self_attn;
    public Mlp mlp;
    public RmsNorm input_layernorm, post_attention_layernorm;

    public DecoderLayer(ModelConfig c, int index, Device device, ScalarType dtype) : base(nameof(DecoderLayer))
    {
        self_attn = new Attention(c, index, device, dtype);
        mlp = new Mlp(c, device, dtype);
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, LayerInputs inputs)
    {
        using var scope = NewDisposeScope();
        x = x + self_attn.forward(input_layernorm.forward(x), inputs);
        x = x + mlp.forward(post_attention_layernorm.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>Embeddings, the decoder layers and the final norm (HF <c>Qwen2Model</c> / <c>LlamaModel</c>).</summary>
public sealed class DecoderModel : nn.Module
{
    public Embedding embed_tokens;
    public ModuleList<DecoderLayer> layers;
    public RmsNorm norm;
    public RotaryEmbedding rotary_emb;

    /// <summary>The first N layers recompute their activations in backward instead of keeping them (0 = none).</summary>
    public int RecomputeLayers { get; set; }

    public DecoderModel(ModelConfig c, Device device, ScalarType dtype) : base(nameof(DecoderModel))
    {
        embed_tokens = new Embedding(c.VocabSize, c.HiddenSize, c.PadTokenId, device, dtype);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(i => new DecoderLayer(c, i, device, dtype)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        rotary_emb = new RotaryEmbedding(c, device);
        RegisterComponents();
    }

    /// <summary>Final hidden states <c>[B, T, H]</c> after the last norm.</summary>
    public Tensor forward(Tensor inputIds, Tensor positionIds, Tensor? mask, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var x = embed_tokens.forward(inputIds);                                       // [B, T, H]
        var (cos, sin) = rotary_emb.forward(positionIds, x.dtype);                    // [B, T, hd]
        var inputs = new LayerInputs(cos.unsqueeze(1), sin.unsqueeze(1), mask, cache);
        for (var i = 0; i < layers.Count; i++)
            x = i < RecomputeLayers ? Recompute.Apply(layers[i], x, inputs) : layers[i].forward(x, inputs);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The causal LM (HF <c>Qwen2ForCausalLM</c> / <c>LlamaForCausalLM</c>): logits = lm_head(model(ids)).
/// With <c>tie_word_embeddings</c> there is no lm_head module: the embedding matrix is the one head parameter.
/// Parameters are created uninitialised on the given device and dtype; load weights
/// (<c>HfModelFolder</c>) or initialise them (<see cref="ModelInit"/>).
/// </summary>
public sealed class CausalLM : nn.Module<Tensor, Tensor>
{
    public DecoderModel model;
    public nn.Module<Tensor, Tensor>? lm_head;

    public ModelConfig Config { get; }

    /// <summary>Special tokens for generation (generation_config.json when loaded from a folder).</summary>
    public GenerationConfig Generation { get; set; }

    public CausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(CausalLM))
    {
        device ??= CPU;
        Config = config;
        Generation = GenerationConfig.From(config);
        model = new DecoderModel(config, device, dtype);
        lm_head = config.TieWordEmbeddings ? null : Layers.Linear(config.HiddenSize, config.VocabSize, false, device, dtype);
        RegisterComponents();
    }

    public Device Device => model.embed_tokens.weight.device;
    public ScalarType Dtype => model.embed_tokens.weight.dtype;

    /// <summary>The training loss's fp32 logits chunk, kept between steps (<see cref="FusedLinearCrossEntropy"/>).</summary>
    public LogitsBuffer LossLogits { get; } = new();

    protected override void Dispose(bool disposing)
    {
        if (disposing) LossLogits.Dispose();
        base.Dispose(disposing);
    }

    public override Tensor forward(Tensor inputIds) => forward(inputIds, null, null, null);

    /// <summary>Logits <c>[B, T, V]</c> in the compute dtype.</summary>
    /// <param name="inputIds">[B, T] int64.</param>
    /// <param name="attentionMask">[B, T], 1 = token, 0 = padding (keys at padding are not attended to).</param>
    /// <param name="positionIds">[B, T]; default 0..T-1 in every row.</param>
    /// <param name="segmentIds">[B, T] int64 for packed sequences: a token attends only to earlier tokens of its segment.</param>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? segmentIds = null)
    {
        using var scope = NewDisposeScope();
        return Logits(ForwardHidden(inputIds, attentionMask, positionIds, segmentIds)).MoveToOuterDisposeScope();
    }

    /// <summary>The final hidden states <c>[B, T, H]</c> (before the head), for losses that apply the head in chunks.</summary>
    public Tensor ForwardHidden(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? segmentIds = null)
    {
        using var scope = NewDisposeScope();
        CheckIds(inputIds);
        var (B, T) = (inputIds.shape[0], inputIds.shape[1]);
        positionIds ??= arange(T, ScalarType.Int64, inputIds.device).expand(B, T);
        var mask = AttentionMask.Build(attentionMask, segmentIds, B, T, past: 0, inputIds.device);
        return model.forward(inputIds, positionIds, mask, null).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One generation step: runs <paramref name="inputIds"/> <c>[B, T]</c> after the tokens already in
    /// <paramref name="cache"/> (whose keys/values it extends) and returns logits <c>[B, T, V]</c>.
    /// <paramref name="attentionMask"/>, when given, covers past and new tokens <c>[B, past + T]</c>.
    /// </summary>
    public Tensor ForwardCached(Tensor inputIds, KvCache cache, Tensor? attentionMask = null, Tensor? positionIds = null)
    {
        using var scope = NewDisposeScope();
        CheckIds(inputIds);
        var (B, T) = (inputIds.shape[0], inputIds.shape[1]);
        var past = cache.Length;
        positionIds ??= arange(past, past + T, ScalarType.Int64, inputIds.device).expand(B, T);
        var mask = AttentionMask.Build(attentionMask, null, B, T, past, inputIds.device);
        var hidden = model.forward(inputIds, positionIds, mask, cache);
        return Logits(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>The head's weight <c>[V, H]</c> (the embedding matrix when tied), or null when the head is not a plain bias-free linear layer.</summary>
    public Tensor? HeadWeight => lm_head is null ? model.embed_tokens.weight
        : lm_head is TorchSharp.Modules.Linear { bias: null } linear ? linear.weight : null;

    /// <summary>Applies the LM head (or the tied embedding matrix) to hidden states <c>[..., H]</c>.</summary>
    public Tensor Logits(Tensor hidden) =>
        lm_head is null ? Bf16Widening.Linear(hidden, model.embed_tokens.weight, null) : Layers.Project(lm_head, hidden);

    /// <summary>A cache sized for this model, for <see cref="ForwardCached"/>.</summary>
    public KvCache NewCache() => new(Config.NumHiddenLayers);

    void CheckIds(Tensor ids)
    {
        if (ids.dim() != 2 || ids.dtype != ScalarType.Int64)
            throw new ArgumentException($"input_ids must be a [batch, length] int64 tensor, got {ids.dtype} [{string.Join(", ", ids.shape)}].");
        if (ids.numel() == 0) throw new ArgumentException("input_ids is empty.");
        if (ids.device_type == DeviceType.META) return;
        var (min, max) = (ids.min().item<long>(), ids.max().item<long>());
        if (min < 0 || max >= Config.VocabSize)
            throw new ArgumentException($"input_ids holds token id {(min < 0 ? min : max)}, outside the model's vocab_size {Config.VocabSize}.");
    }
}

/// <summary>Parameter creation shared by the decoder modules.</summary>
static class Layers
{
    /// <summary>An nn.Linear (y = x·Wᵀ + b) with uninitialised weight [out, in] and optional bias [out].</summary>
    public static nn.Module<Tensor, Tensor> Linear(long inFeatures, long outFeatures, bool bias, Device device, ScalarType dtype) =>
        nn.Linear(new Parameter(empty([outFeatures, inFeatures], dtype, device)),
                  bias ? new Parameter(empty(outFeatures, dtype, device)) : null);

    /// <summary>Runs a projection: a plain linear layer through <see cref="Bf16Widening.Linear"/>, anything else (a LoRA wrapper) as it is.</summary>
    public static Tensor Project(nn.Module<Tensor, Tensor> projection, Tensor x) =>
        projection is TorchSharp.Modules.Linear linear ? Bf16Widening.Linear(x, linear.weight!, linear.bias) : projection.forward(x);
}
