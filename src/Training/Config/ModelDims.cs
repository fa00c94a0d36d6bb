using System.Text.Json;

namespace Sft.Training.Config;

/// <summary>
/// The architecture numbers validation and the memory estimate need, read from a Hugging Face
/// <c>config.json</c> (qwen2 or llama) or from MindFormers' <c>model.model_config</c>.
/// </summary>
/// <param name="ModelType">qwen2 or llama</param>
/// <param name="AttentionBias">q/k/v projections carry a bias (always for qwen2)</param>
/// <param name="Source">where the numbers came from, for messages</param>
public sealed record ModelDims(
    string ModelType,
    int VocabSize,
    int HiddenSize,
    int NumLayers,
    int NumHeads,
    int NumKvHeads,
    int HeadDim,
    int IntermediateSize,
    bool TieWordEmbeddings,
    bool AttentionBias,
    int MaxPositionEmbeddings,
    double RopeTheta,
    double RmsNormEps,
    string Source)
{
    public static readonly IReadOnlyList<string> SupportedTypes = ["qwen2", "llama"];

    /// <summary>Reads <paramref name="path"/>; on failure returns null and says why in <paramref name="error"/>.</summary>
    public static ModelDims? TryRead(string path, out string? error)
    {
        error = null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { error = "config.json is not a JSON object"; return null; }
            var type = Str(root, "model_type") ?? "";
            if (!SupportedTypes.Contains(type))
            {
                error = $"model_type '{type}' is not supported (supported: {string.Join(", ", SupportedTypes)})";
                return null;
            }
            int Need(string key) => Int(root, key) ?? throw new KeyNotFoundException(key);
            var hidden = Need("hidden_size");
            var heads = Need("num_attention_heads");
            return new ModelDims(
                type,
                Need("vocab_size"),
                hidden,
                Need("num_hidden_layers"),
                heads,
                Int(root, "num_key_value_heads") ?? heads,
                Int(root, "head_dim") ?? (heads > 0 ? hidden / heads : 0),
                Need("intermediate_size"),
                Bool(root, "tie_word_embeddings") ?? false,
                type == "qwen2" || (Bool(root, "attention_bias") ?? false),
                Int(root, "max_position_embeddings") ?? 0,
                Num(root, "rope_theta") ?? 10000.0,
                Num(root, "rms_norm_eps") ?? 1e-6,
                path);
        }
        catch (KeyNotFoundException e) { error = $"config.json has no '{e.Message}'"; }
        catch (JsonException e) { error = $"config.json is not valid JSON ({e.Message})"; }
        catch (IOException e) { error = $"config.json cannot be read ({e.Message})"; }
        catch (UnauthorizedAccessException e) { error = $"config.json cannot be read ({e.Message})"; }
        catch (InvalidOperationException e) { error = $"config.json has a value of the wrong type ({e.Message})"; }
        catch (FormatException e) { error = $"config.json has a value of the wrong type ({e.Message})"; }
        return null;
    }

    static string? Str(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static int? Int(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    static double? Num(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    static bool? Bool(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary>Only the first <paramref name="layers"/> decoder layers.</summary>
    public ModelDims WithLayers(int layers) => this with { NumLayers = layers };

    /// <summary>The linear layers of the decoder in Hugging Face names with (in, out) features, lm_head last.</summary>
    public IEnumerable<LinearModule> LinearModules()
    {
        var q = NumHeads * HeadDim;
        var kv = NumKvHeads * HeadDim;
        for (var i = 0; i < NumLayers; i++)
        {
            var p = $"model.layers.{i}.";
            yield return new(p + "self_attn.q_proj", HiddenSize, q, AttentionBias);
            yield return new(p + "self_attn.k_proj", HiddenSize, kv, AttentionBias);
            yield return new(p + "self_attn.v_proj", HiddenSize, kv, AttentionBias);
            yield return new(p + "self_attn.o_proj", q, HiddenSize, false);
            yield return new(p + "mlp.gate_proj", HiddenSize, IntermediateSize, false);
            yield return new(p + "mlp.up_proj", HiddenSize, IntermediateSize, false);
            yield return new(p + "mlp.down_proj", IntermediateSize, HiddenSize, false);
        }
        yield return new("lm_head", HiddenSize, VocabSize, false);
    }

    /// <summary>Parameters as stored: embeddings, decoder layers (with norms and biases), final norm, untied lm_head.</summary>
    public long ParameterCount()
    {
        long total = (long)VocabSize * HiddenSize;                           // embed_tokens
        foreach (var m in LinearModules())
        {
            if (m.Name == "lm_head" && TieWordEmbeddings) continue;
            total += (long)m.InFeatures * m.OutFeatures + (m.Bias ? m.OutFeatures : 0);
        }
        total += (long)NumLayers * 2 * HiddenSize;                           // input/post_attention layernorms
        total += HiddenSize;                                                  // model.norm
        return total;
    }
}

/// <summary>A linear layer by its Hugging Face module name (<c>model.layers.0.self_attn.q_proj</c>).</summary>
public sealed record LinearModule(string Name, int InFeatures, int OutFeatures, bool Bias);
