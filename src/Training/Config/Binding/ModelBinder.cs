using Sft.Training.Config.Yaml;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Config.Binding;

/// <summary>What <see cref="ModelBinder"/> read; sequence length and LoRA targets are checked afterwards.</summary>
public sealed record ModelFacts(
    string Source,
    ModelSourceKind Kind,
    string Path,
    SourcePosition At,
    ModelConfig? Architecture,
    int? NumLayers,
    ScalarType ComputeDtype,
    int? SeqLength,
    SourcePosition SeqLengthAt,
    LoraSection? Lora,
    string LoraPath,
    SourcePosition LoraTargetsAt);

/// <summary>
/// <c>load_checkpoint</c> (a Hugging Face folder or <c>builtin:NAME</c>), <c>load_ckpt_format</c>, and
/// <c>model.model_config</c>: dimensions (checked against config.json), dtypes, <c>num_layers</c> truncation,
/// and <c>pet_config</c> (LoRA).
/// </summary>
public static class ModelBinder
{
    static readonly string[] DtypeNames = ["float32", "bfloat16", "float16", "fp32", "bf16", "fp16"];

    public static ModelFacts Bind(SectionReader root, BindContext ctx)
    {
        var (source, kind, path, at, folder) = Checkpoint(root, ctx);

        SectionReader? config = null;
        if (root.Section("model") is { } model)
        {
            config = model.Section("model_config");
            model.Ignore("the architecture class follows config.json's model_type.", "arch");
            model.Finish();
        }

        var declared = config is null ? null : Declared(config, ctx);
        var computeDtype = Dtype(config, ctx);
        config?.Ignore("the optimizer keeps float32 master weights and moments for bfloat16 parameters.", "param_init_type");
        var seqLength = config?.Int("seq_length", min: 1);
        var seqAt = config?.PositionOf("seq_length") ?? root.Position;

        var architecture = folder ?? declared?.ToConfig();
        int? numLayers = null;
        if (declared?.Layers is { } n && folder is not null)
        {
            var nAt = config!.PositionOf("num_layers");
            if (n > folder.NumHiddenLayers)
                ctx.Issues.Error(config.KeyPath("num_layers"), nAt,
                    $"num_layers {n} is more than the {folder.NumHiddenLayers} layers in {path}/config.json.",
                    $"use {folder.NumHiddenLayers} or fewer (fewer loads only the first layers).");
            else if (n < folder.NumHiddenLayers)
            {
                numLayers = n;
                architecture = folder.WithLayers(n);
                ctx.Issues.Warning(config.KeyPath("num_layers"), nAt,
                    $"only the first {n} of {folder.NumHiddenLayers} decoder layers are loaded and trained.",
                    $"remove num_layers or set it to {folder.NumHiddenLayers} to train the whole model.");
            }
        }
        if (folder is not null && declared is not null) CompareDims(folder, $"{path}/config.json", declared, config!, ctx);

        LoraSection? lora = null;
        var loraPath = "";
        var targetsAt = root.Position;
        if (config?.Section("pet_config") is { } pet)
        {
            loraPath = pet.Path;
            targetsAt = pet.PositionOf("target_modules");
            lora = LoraBinder.Bind(pet, ctx);
        }
        config?.Finish();
        root.Accept("model");
        return new ModelFacts(source, kind, path, at, architecture, numLayers, computeDtype, seqLength, seqAt, lora, loraPath, targetsAt);
    }

    static (string Source, ModelSourceKind Kind, string Path, SourcePosition At, ModelConfig? Folder) Checkpoint(SectionReader root, BindContext ctx)
    {
        var format = root.Choice("load_ckpt_format", ["safetensors", "ckpt"]);
        if (format == "ckpt")
            ctx.Issues.Error(root.KeyPath("load_ckpt_format"), root.PositionOf("load_ckpt_format"),
                "MindSpore .ckpt weights are not supported.", "set load_ckpt_format: 'safetensors' and load_checkpoint to a Hugging Face folder.");
        var checkpoint = root.String("load_checkpoint");
        var pretrained = root.String("pretrained_model_dir");
        var key = "load_checkpoint";
        if (string.IsNullOrWhiteSpace(checkpoint) && !string.IsNullOrWhiteSpace(pretrained)) { checkpoint = pretrained; key = "pretrained_model_dir"; }
        else if (!string.IsNullOrWhiteSpace(pretrained) && pretrained != checkpoint)
            ctx.Issues.Warning(root.KeyPath("pretrained_model_dir"), root.PositionOf("pretrained_model_dir"),
                "differs from load_checkpoint; the weights and config.json come from load_checkpoint.");
        var at = root.PositionOf(key);
        if (string.IsNullOrWhiteSpace(checkpoint))
        {
            ctx.Issues.Error(key, at, "no model: load_checkpoint is missing or empty.",
                "set load_checkpoint to a Hugging Face model folder (config.json + *.safetensors) or builtin:NAME.");
            return ("", ModelSourceKind.LocalFolder, "", at, null);
        }

        if (BindContext.IsBuiltin(checkpoint, out var name))
        {
            var resolver = ctx.Options.Builtins;
            if (resolver is null)
            {
                ctx.Issues.Warning(key, at, $"'{checkpoint}' is resolved by the server; it was not checked here.");
                return (checkpoint, ModelSourceKind.Builtin, "", at, null);
            }
            var folder = resolver.ResolveModel(name);
            if (folder is null)
            {
                ctx.Issues.Error(key, at, $"there is no built-in model '{name}'.",
                    $"use one of: {string.Join(", ", resolver.ModelNames.Select(n => BindContext.BuiltinPrefix + n))}.");
                return (checkpoint, ModelSourceKind.Builtin, "", at, null);
            }
            if (ctx.CheckFiles && !Directory.Exists(folder))
            {
                ctx.Issues.Error(key, at, $"built-in model '{name}' has not been created yet ({folder}).",
                    $"create it first with the create-model command ({name}).");
                return (checkpoint, ModelSourceKind.Builtin, folder, at, null);
            }
            var builtinDims = ctx.CheckFiles ? PathChecks.ModelFolder(folder, key, at, ctx.Issues) : null;
            return (checkpoint, ModelSourceKind.Builtin, folder, at, builtinDims);
        }

        var full = ctx.FullPath(checkpoint);
        var dims = ctx.CheckFiles ? PathChecks.ModelFolder(full, key, at, ctx.Issues) : null;
        return (checkpoint, ModelSourceKind.LocalFolder, full, at, dims);
    }

    /// <summary>model_config's own dimensions (MindFormers LlamaConfig names), each null when not set.</summary>
    sealed record DeclaredDims(int? Hidden, int? Layers, int? Heads, int? KvHeads, int? Vocab, int? Intermediate, bool? Bias,
        double? Eps, double? Theta, int? MaxPositions, bool? Tied)
    {
        /// <summary>An architecture when model_config is complete enough (for the memory estimate without a config.json).</summary>
        public ModelConfig? ToConfig() =>
            Hidden is { } h && Layers is { } l && Heads is { } nh && Vocab is { } v && Intermediate is { } i && h % nh == 0
                ? new ModelConfig
                {
                    ModelType = Bias == true ? "qwen2" : "llama", VocabSize = v, HiddenSize = h, IntermediateSize = i,
                    NumHiddenLayers = l, NumAttentionHeads = nh, NumKeyValueHeads = KvHeads ?? nh, HeadDim = h / nh,
                    RmsNormEps = Eps ?? 1e-6, RopeTheta = Theta ?? 10000, TieWordEmbeddings = Tied ?? false,
                    QkvBias = Bias ?? false, OutputBias = false, MlpBias = false, AttentionDropout = 0,
                    MaxPositionEmbeddings = MaxPositions ?? 0, InitializerRange = 0.02, TorchDtype = "float32",
                }
                : null;
    }

    /// <summary>Reads the dimensions and reports the model_config keys that do nothing here.</summary>
    static DeclaredDims Declared(SectionReader c, BindContext ctx)
    {
        c.Ignore("the architecture follows config.json's model_type.", "type");
        var declared = new DeclaredDims(
            c.Int("hidden_size", min: 1), c.Int("num_layers", min: 1), c.Int("num_heads", min: 1), c.Int("n_kv_heads", min: 1),
            c.Int("vocab_size", min: 1), c.Int("intermediate_size", min: 1), c.Bool("qkv_has_bias"),
            c.Double("rms_norm_eps", min: 0, minExclusive: true), c.Double("theta", min: 0, minExclusive: true),
            c.Int("max_position_embedding", min: 1), c.Bool("tie_word_embeddings"));
        if (declared is { Hidden: { } hidden, Heads: { } heads } && hidden % heads != 0)
            ctx.Issues.Error(c.KeyPath("num_heads"), c.PositionOf("num_heads"), $"hidden_size {hidden} is not divisible by num_heads {heads}.",
                "use the values from the model's config.json.");
        if (declared is { Heads: { } h, KvHeads: { } kv } && h % kv != 0)
            ctx.Issues.Error(c.KeyPath("n_kv_heads"), c.PositionOf("n_kv_heads"), $"num_heads {h} is not a multiple of n_kv_heads {kv}.",
                "use the values from the model's config.json.");

        if (c.Double("emb_dropout_prob", min: 0, max: 1, maxExclusive: true) is > 0)
            ctx.Issues.Warning(c.KeyPath("emb_dropout_prob"), c.PositionOf("emb_dropout_prob"),
                "Hugging Face Qwen2/Llama have no embedding dropout; it is not applied.", "set emb_dropout_prob: 0.0.");
        c.Ignore(Reasons.FromConfigJson, "multiple_of", "ffn_dim_multiplier", "bos_token_id", "eos_token_id", "pad_token_id",
            "rotary_pct", "rotary_emb_base", "embedding_init_type", "rope_scaling");
        c.Ignore("labels use -100 for ignored positions.", "ignore_token_id");
        c.Ignore("load_checkpoint names the weights.", "checkpoint_name_or_path");
        c.Ignore("runner_config.batch_size sets the batch size.", "batch_size");
        c.Ignore(Reasons.Float32Always, "layernorm_compute_type", "softmax_compute_type", "rotary_dtype");
        c.Ignore(Reasons.Inference, "use_past", "use_past_shard", "is_dynamic", "repetition_penalty", "max_decode_length", "top_k",
            "top_p", "do_sample", "block_size", "num_blocks", "max_new_tokens", "temperature", "extend_method", "scaling_factor");
        c.Ignore(Reasons.AscendGraph, "use_flash_attention", "fine_grain_interleave", "qkv_concat", "offset", "use_rope_slice",
            "use_attn_mask_compression", "parallel_optimizer", "pp_interleave_num", "input_sliced_sig", "quant",
            "parallel_config", "moe_config", "auto_register", "use_fused_rms_norm", "use_fused_swiglu", "use_fused_rope",
            "use_eod_attn_mask_compression", "use_ring_attention", "return_hidden_states");
        return declared;
    }

    /// <summary>Each dimension model_config sets that disagrees with config.json is a warning (config.json wins).</summary>
    static void CompareDims(ModelConfig folder, string source, DeclaredDims declared, SectionReader c, BindContext ctx)
    {
        void Check(string key, double? yaml, double json, string jsonKey)
        {
            if (yaml is not { } y || Math.Abs(y - json) <= 1e-12 * Math.Max(1, Math.Abs(json))) return;
            ctx.Issues.Warning(c.KeyPath(key), c.PositionOf(key),
                $"{NodeValues.Format(y)} differs from {jsonKey} = {NodeValues.Format(json)} in {source}; config.json is used.",
                $"set {key}: {NodeValues.Format(json)} or remove it.");
        }
        Check("hidden_size", declared.Hidden, folder.HiddenSize, "hidden_size");
        Check("num_heads", declared.Heads, folder.NumAttentionHeads, "num_attention_heads");
        Check("n_kv_heads", declared.KvHeads, folder.NumKeyValueHeads, "num_key_value_heads");
        Check("vocab_size", declared.Vocab, folder.VocabSize, "vocab_size");
        Check("intermediate_size", declared.Intermediate, folder.IntermediateSize, "intermediate_size");
        Check("rms_norm_eps", declared.Eps, folder.RmsNormEps, "rms_norm_eps");
        Check("theta", declared.Theta, folder.RopeTheta, "rope_theta");
        if (folder.MaxPositionEmbeddings > 0) Check("max_position_embedding", declared.MaxPositions, folder.MaxPositionEmbeddings, "max_position_embeddings");
        if (declared.Bias is { } bias && bias != folder.QkvBias)
            ctx.Issues.Warning(c.KeyPath("qkv_has_bias"), c.PositionOf("qkv_has_bias"),
                $"{bias} differs from the {folder.ModelType} checkpoint ({(folder.QkvBias ? "has" : "has no")} q/k/v bias); the checkpoint is used.");
        if (declared.Tied is { } tied && tied != folder.TieWordEmbeddings)
            ctx.Issues.Warning(c.KeyPath("tie_word_embeddings"), c.PositionOf("tie_word_embeddings"),
                $"{tied} differs from tie_word_embeddings = {folder.TieWordEmbeddings} in {source}; config.json is used.");
    }

    /// <summary>compute_dtype: float32 (default) or bfloat16; float16 is refused.</summary>
    static ScalarType Dtype(SectionReader? c, BindContext ctx)
    {
        const string key = "compute_dtype";
        if (c?.Choice(key, DtypeNames) is not { } name) return ScalarType.Float32;
        switch (name)
        {
            case "float32" or "fp32": return ScalarType.Float32;
            case "bfloat16" or "bf16": return ScalarType.BFloat16;
            default:
                ctx.Issues.Error(c.KeyPath(key), c.PositionOf(key), "float16 is not supported (it needs loss scaling, which the engine does not do).",
                    $"use {key}: bfloat16 (same memory, no loss scaling needed) or float32.");
                return ScalarType.Float32;
        }
    }
}
