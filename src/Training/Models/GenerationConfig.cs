using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sft.Training.Models;

/// <summary>
/// A model's <c>generation_config.json</c>: the special tokens generation stops at or pads with.
/// Read from the folder when present, otherwise derived from config.json. The JSON is kept whole
/// so saving writes back every key.
/// </summary>
public sealed record GenerationConfig
{
    public long? BosTokenId { get; init; }
    public IReadOnlyList<long> EosTokenIds { get; init; } = [];
    public long? PadTokenId { get; init; }
    public JsonObject Json { get; init; } = new();

    public const string FileName = "generation_config.json";

    /// <summary>generation_config.json of <paramref name="folder"/>, or one derived from <paramref name="config"/>.</summary>
    public static GenerationConfig Load(string folder, ModelConfig config)
    {
        var path = Path.Combine(folder, FileName);
        return File.Exists(path) ? Parse(File.ReadAllText(path), path) : From(config);
    }

    public static GenerationConfig From(ModelConfig config)
    {
        var json = new JsonObject();
        if (config.BosTokenId is { } bos) json["bos_token_id"] = bos;
        if (config.EosTokenIds.Count == 1) json["eos_token_id"] = config.EosTokenIds[0];
        else if (config.EosTokenIds.Count > 1) json["eos_token_id"] = new JsonArray(config.EosTokenIds.Select(id => (JsonNode)id).ToArray());
        if (config.PadTokenId is { } pad) json["pad_token_id"] = pad;
        return new GenerationConfig { BosTokenId = config.BosTokenId, EosTokenIds = config.EosTokenIds, PadTokenId = config.PadTokenId, Json = json };
    }

    public static GenerationConfig Parse(string text, string source)
    {
        JsonObject root;
        try { root = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{source}: the top level must be a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message})."); }
        return new GenerationConfig
        {
            BosTokenId = Id(root, "bos_token_id", source),
            EosTokenIds = root["eos_token_id"] is JsonArray list
                ? list.Select((n, i) => n is JsonValue v && v.TryGetValue<long>(out var id) ? id : throw new InvalidDataException($"{source}: 'eos_token_id[{i}]' must be a token id.")).ToArray()
                : Id(root, "eos_token_id", source) is { } eos ? [eos] : [],
            PadTokenId = Id(root, "pad_token_id", source),
            Json = root,
        };
    }

    static long? Id(JsonObject root, string key, string source) => root[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<long>(out var id) => id,
        var other => throw new InvalidDataException($"{source}: '{key}' must be a token id (got {other.ToJsonString()})."),
    };

    public string ToJson() => Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
