using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;

namespace Sft.Training.Models;

/// <summary>How RoPE frequencies are rescaled for long context (<c>rope_scaling</c> in config.json).</summary>
/// <param name="Type">"linear" or "llama3".</param>
/// <param name="Factor">the scaling factor (both types).</param>
/// <param name="LowFreqFactor">llama3 only.</param>
/// <param name="HighFreqFactor">llama3 only.</param>
/// <param name="OriginalMaxPositionEmbeddings">llama3 only: the context length the model was pretrained with.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4, long OriginalMaxPositionEmbeddings = 8192);

/// <summary>
/// The architecture of a Qwen2 or Llama causal LM, read from a Hugging Face <c>config.json</c> and
/// validated up front: every error names the key and says what would be accepted. Settings the
/// engine does not implement (another RoPE type, sliding-window attention, another activation) are
/// refused rather than ignored. The original JSON is kept so saving writes back every key.
/// </summary>
public sealed record ModelConfig
{
    public required string ModelType { get; init; }             // "qwen2" | "llama"
    public required long VocabSize { get; init; }
    public required long HiddenSize { get; init; }
    public required long IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public required long HeadDim { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public RopeScaling? RopeScaling { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v (Qwen2 always; Llama when <c>attention_bias</c>).</summary>
    public required bool QkvBias { get; init; }
    /// <summary>Bias on o_proj (Llama with <c>attention_bias</c>).</summary>
    public required bool OutputBias { get; init; }
    /// <summary>Bias on gate/up/down (Llama <c>mlp_bias</c>).</summary>
    public required bool MlpBias { get; init; }
    public required double AttentionDropout { get; init; }
    public required long MaxPositionEmbeddings { get; init; }
    public required double InitializerRange { get; init; }
    public long? PadTokenId { get; init; }
    public long? BosTokenId { get; init; }
    public IReadOnlyList<long> EosTokenIds { get; init; } = [];
    /// <summary>The storage dtype the checkpoint declares (<c>torch_dtype</c> or <c>dtype</c>), "float32" if absent.</summary>
    public required string TorchDtype { get; init; }

    /// <summary>The config.json this was read from (with every key the engine does not use).</summary>
    public JsonObject Json { get; init; } = new();

    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses config.json text; <paramref name="source"/> names the file in errors.</summary>
    public static ModelConfig Parse(string json, string source = "config.json")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject
                ?? throw new InvalidDataException($"{source}: the top level must be a JSON object.");
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message})."); }
        return new Reader(root, source).Read();
    }

    /// <summary>This config with only the first <paramref name="layers"/> decoder layers.</summary>
    public ModelConfig WithLayers(int layers)
    {
        if (layers < 1 || layers > NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(layers), $"num_layers must be between 1 and num_hidden_layers ({NumHiddenLayers}), got {layers}.");
        var json = (JsonObject)Json.DeepClone();
        json["num_hidden_layers"] = layers;
        return this with { NumHiddenLayers = layers, Json = json };
    }

    /// <summary>This config declaring <paramref name="dtype"/> as the storage dtype (written on save).</summary>
    public ModelConfig WithTorchDtype(torch.ScalarType dtype)
    {
        var name = DtypeName(dtype);
        var json = (JsonObject)Json.DeepClone();
        if (json.ContainsKey("dtype") && !json.ContainsKey("torch_dtype")) json["dtype"] = name;
        else json["torch_dtype"] = name;
        return this with { TorchDtype = name, Json = json };
    }

    /// <summary>config.json text as written on save (indented, every original key kept).</summary>
    public string ToJson() => Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    public static torch.ScalarType ParseDtype(string name, string what) => name switch
    {
        "float32" or "fp32" or "float" => torch.ScalarType.Float32,
        "bfloat16" or "bf16" => torch.ScalarType.BFloat16,
        "float16" or "fp16" or "half" => torch.ScalarType.Float16,
        _ => throw new ArgumentException($"{what}: unknown dtype '{name}' (use float32, bfloat16 or float16)."),
    };

    public static string DtypeName(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => "float32",
        torch.ScalarType.BFloat16 => "bfloat16",
        torch.ScalarType.Float16 => "float16",
        _ => throw new ArgumentException($"Models are stored as float32, bfloat16 or float16, not {dtype}."),
    };

    /// <summary>Number of parameters (tied embeddings counted once).</summary>
    public long ParameterCount()
    {
        long h = HiddenSize, kv = NumKeyValueHeads * HeadDim, q = NumAttentionHeads * HeadDim, i = IntermediateSize;
        var attention = h * q + 2 * h * kv + q * h + (QkvBias ? q + 2 * kv : 0) + (OutputBias ? h : 0);
        var mlp = 3 * h * i + (MlpBias ? 2 * i + h : 0);
        var layer = attention + mlp + 2 * h;
        return VocabSize * h * (TieWordEmbeddings ? 1 : 2) + NumHiddenLayers * layer + h;
    }

    /// <summary>Reads and validates one config object; all errors name the key.</summary>
    sealed class Reader(JsonObject root, string source)
    {
        public ModelConfig Read()
        {
            var modelType = String("model_type") ?? throw Error("model_type", "is missing; set it to \"qwen2\" or \"llama\"");
            if (modelType is not ("qwen2" or "llama"))
                throw Error("model_type", $"is \"{modelType}\"; only \"qwen2\" and \"llama\" decoders are supported");
            var isLlama = modelType == "llama";

            var hidden = PositiveLong("hidden_size", null);
            var heads = (int)PositiveLong("num_attention_heads", null);
            var kvHeads = (int)PositiveLong("num_key_value_heads", heads);
            if (heads % kvHeads != 0)
                throw Error("num_key_value_heads", $"({kvHeads}) must divide num_attention_heads ({heads})");
            var headDim = PositiveLong("head_dim", hidden % heads == 0 ? hidden / heads : null);
            if (headDim % 2 != 0) throw Error("head_dim", $"({headDim}) must be even for rotary embeddings");

            var act = String("hidden_act") ?? "silu";
            if (act != "silu") throw Error("hidden_act", $"is \"{act}\"; only \"silu\" (SwiGLU MLP) is supported");
            if (Bool("use_sliding_window", false))
                throw Error("use_sliding_window", "is true; sliding-window attention is not supported (set it to false to use full attention)");
            if (Long("pretraining_tp") is { } tp && tp != 1)
                throw Error("pretraining_tp", $"is {tp}; only 1 is supported");

            var attentionBias = isLlama && Bool("attention_bias", false);
            var eps = PositiveDouble("rms_norm_eps", 1e-6);
            var dtype = String("torch_dtype") ?? String("dtype") ?? "float32";
            if (dtype is not ("float32" or "bfloat16" or "float16"))
                throw Error(root.ContainsKey("torch_dtype") ? "torch_dtype" : "dtype", $"is \"{dtype}\"; use float32, bfloat16 or float16");
            var dropout = Double("attention_dropout") ?? 0;
            if (dropout is < 0 or >= 1) throw Error("attention_dropout", $"({dropout}) must be in [0, 1)");

            var vocab = PositiveLong("vocab_size", null);
            var pad = TokenId("pad_token_id");
            if (pad >= vocab) throw Error("pad_token_id", $"({pad}) must be below vocab_size ({vocab})");

            return new ModelConfig
            {
                ModelType = modelType,
                VocabSize = vocab,
                HiddenSize = hidden,
                IntermediateSize = PositiveLong("intermediate_size", null),
                NumHiddenLayers = (int)PositiveLong("num_hidden_layers", null),
                NumAttentionHeads = heads,
                NumKeyValueHeads = kvHeads,
                HeadDim = headDim,
                RmsNormEps = eps,
                RopeTheta = PositiveDouble("rope_theta", 10000),
                RopeScaling = ReadRopeScaling(),
                TieWordEmbeddings = Bool("tie_word_embeddings", false),
                QkvBias = !isLlama || attentionBias,
                OutputBias = attentionBias,
                MlpBias = isLlama && Bool("mlp_bias", false),
                AttentionDropout = dropout,
                MaxPositionEmbeddings = PositiveLong("max_position_embeddings", 2048),
                InitializerRange = PositiveDouble("initializer_range", 0.02),
                PadTokenId = pad,
                BosTokenId = TokenId("bos_token_id"),
                EosTokenIds = TokenIds("eos_token_id"),
                TorchDtype = dtype,
                Json = (JsonObject)root.DeepClone(),
            };
        }

        RopeScaling? ReadRopeScaling()
        {
            if (!root.TryGetPropertyValue("rope_scaling", out var node) || node is null) return null;
            if (node is not JsonObject scaling) throw Error("rope_scaling", "must be an object or null");
            var type = (scaling["rope_type"] ?? scaling["type"])?.GetValue<string>()
                ?? throw Error("rope_scaling", "has no \"rope_type\" (or \"type\")");
            double Factor()
            {
                var f = scaling["factor"]?.GetValue<double>() ?? throw Error("rope_scaling.factor", $"is missing (needed for rope_type \"{type}\")");
                return f >= 1 ? f : throw Error("rope_scaling.factor", $"({f}) must be >= 1");
            }
            return type switch
            {
                "default" => null,
                "linear" => new RopeScaling("linear", Factor()),
                "llama3" => new RopeScaling("llama3", Factor(),
                    scaling["low_freq_factor"]?.GetValue<double>() ?? throw Error("rope_scaling.low_freq_factor", "is missing (needed for llama3)"),
                    scaling["high_freq_factor"]?.GetValue<double>() ?? throw Error("rope_scaling.high_freq_factor", "is missing (needed for llama3)"),
                    scaling["original_max_position_embeddings"]?.GetValue<long>() ?? throw Error("rope_scaling.original_max_position_embeddings", "is missing (needed for llama3)")),
                _ => throw Error("rope_scaling.rope_type", $"is \"{type}\"; supported: linear, llama3 (or remove rope_scaling)"),
            };
        }

        InvalidDataException Error(string key, string problem) => new($"{source}: '{key}' {problem}.");

        JsonNode? Node(string key) => root.TryGetPropertyValue(key, out var n) ? n : null;

        string? String(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw Error(key, $"must be a string (got {other.ToJsonString()})"),
        };

        bool Bool(string key, bool fallback) => Node(key) switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var other => throw Error(key, $"must be true or false (got {other.ToJsonString()})"),
        };

        double? Double(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<double>(out var d) => d,
            var other => throw Error(key, $"must be a number (got {other.ToJsonString()})"),
        };

        long? Long(string key) => Node(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<long>(out var l) => l,
            JsonValue v when v.TryGetValue<double>(out var d) && d == Math.Floor(d) => (long)d,
            var other => throw Error(key, $"must be an integer (got {other.ToJsonString()})"),
        };

        long PositiveLong(string key, long? fallback)
        {
            var value = Long(key) ?? fallback ?? throw Error(key, "is missing");
            return value > 0 ? value : throw Error(key, $"must be a positive integer (got {value})");
        }

        double PositiveDouble(string key, double fallback)
        {
            var value = Double(key) ?? fallback;
            return value > 0 ? value : throw Error(key, $"must be positive (got {value})");
        }

        long? TokenId(string key) => Long(key) is { } id ? (id >= 0 ? id : throw Error(key, $"must be >= 0 (got {id})")) : null;

        IReadOnlyList<long> TokenIds(string key) => Node(key) switch
        {
            null => [],
            JsonArray a => a.Select((n, i) => n is JsonValue v && v.TryGetValue<long>(out var id) && id >= 0
                ? id : throw Error($"{key}[{i}]", "must be a token id")).ToArray(),
            _ => TokenId(key) is { } id ? [id] : [],
        };
    }
}
