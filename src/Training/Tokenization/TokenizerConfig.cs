using System.Text.Json;

namespace Sft.Training.Tokenization;

/// <summary>
/// What the trainer needs from <c>tokenizer_config.json</c>: the special token strings, the chat template and the
/// <c>added_tokens_decoder</c> table (the added tokens of tokenizers that ship vocab.json + merges.txt).
/// </summary>
public sealed record TokenizerConfig(
    string? EosToken, string? PadToken, string? BosToken, string? UnkToken,
    string? ChatTemplate, bool? AddBosToken, bool? AddEosToken,
    IReadOnlyList<AddedToken> AddedTokens)
{
    public static TokenizerConfig Empty { get; } = new(null, null, null, null, null, null, null, []);

    public static TokenizerConfig Read(string path) => Read(File.ReadAllBytes(path), path);

    /// <summary>Parses tokenizer_config.json bytes; <paramref name="path"/> names them in messages.</summary>
    public static TokenizerConfig Read(byte[] json, string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object at the top.");
            return new TokenizerConfig(
                TokenString(root, "eos_token", path), TokenString(root, "pad_token", path),
                TokenString(root, "bos_token", path), TokenString(root, "unk_token", path),
                ChatTemplateOf(root, path), Bool(root, "add_bos_token", path), Bool(root, "add_eos_token", path),
                AddedTokensDecoder(root, path));
        }
    }

    /// <summary>A special token is a string or an <c>AddedToken</c> object with a "content" field.</summary>
    static string? TokenString(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => throw new InvalidDataException($"{path}: \"{name}\" must be a string, null or an object with \"content\"."),
        };
    }

    static bool? Bool(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{path}: \"{name}\" must be true or false."),
        };
    }

    /// <summary>"chat_template" is a string, or a list of {name, template} where "default" is the chat one.</summary>
    static string? ChatTemplateOf(JsonElement root, string path)
    {
        if (!root.TryGetProperty("chat_template", out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
                if (item.TryGetProperty("name", out var n) && n.GetString() == "default" && item.TryGetProperty("template", out var t))
                    return t.GetString();
            return null;
        }
        if (value.ValueKind == JsonValueKind.Null) return null;
        throw new InvalidDataException($"{path}: \"chat_template\" must be a string or a list of {{name, template}}.");
    }

    static List<AddedToken> AddedTokensDecoder(JsonElement root, string path)
    {
        var tokens = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens_decoder", out var table) || table.ValueKind != JsonValueKind.Object) return tokens;
        foreach (var entry in table.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, out var id) || id < 0)
                throw new InvalidDataException($"{path}: added_tokens_decoder key \"{entry.Name}\" is not a token id.");
            tokens.Add(TokenizerJson.ReadAddedToken(entry.Value, id, $"{path}: added_tokens_decoder[\"{entry.Name}\"]"));
        }
        return tokens;
    }
}
