using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Sft.Training.Tokenization;

/// <summary>
/// The parts of a tokenizer that <see cref="HfTokenizer"/> is built from, whatever files they came from.
/// <paramref name="Merges"/> are "left right" pairs by rank; <paramref name="Prefix"/>/<paramref name="Suffix"/> are the
/// ids <c>add_special_tokens=True</c> puts around a text (the post-processor's template, e.g. Llama 3's BOS).
/// </summary>
internal sealed record TokenizerModel(
    string Source,
    Dictionary<string, int> Vocab, List<string> Merges, IReadOnlyList<AddedToken> AddedTokens,
    bool Nfc, PreTokenizer PreTokenizer, bool IgnoreMerges, int[] Prefix, int[] Suffix);

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> (plain or gzip) of a byte-level BPE tokenizer: Qwen2/Qwen3 and Llama 3
/// exactly, GPT-2-style ones through .NET's regex. Anything else is refused with a message naming the field.
/// </summary>
internal static class TokenizerJson
{
    const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static TokenizerModel Read(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file, path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase), path);
    }

    /// <summary>Reads tokenizer.json from a stream; <paramref name="path"/> names it in messages.</summary>
    public static TokenizerModel Read(Stream input, bool gzip, string path)
    {
        JsonDocument doc;
        try
        {
            using Stream stream = gzip ? new GZipStream(input, CompressionMode.Decompress, leaveOpen: true) : input;
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}"); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path} is not a valid gzip file: {e.Message}"); }

        using (doc)
        {
            var root = doc.RootElement;
            var model = Required(root, "model", path);
            var type = model.TryGetProperty("type", out var t) ? t.GetString() : "BPE";
            if (type != "BPE")
                throw new InvalidDataException($"{path}: model.type is \"{type}\"; only byte-level BPE tokenizers (Qwen2/Qwen3, Llama 3, GPT-2 family) are supported.");
            foreach (var (field, allowed) in new[] { ("continuing_subword_prefix", ""), ("end_of_word_suffix", "") })
                if (model.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() != allowed)
                    throw new InvalidDataException($"{path}: model.{field} \"{v.GetString()}\" is not supported (byte-level BPE has none).");
            if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
                throw new InvalidDataException($"{path}: model.byte_fallback is true (a SentencePiece-style BPE); only byte-level BPE is supported.");
            if (model.TryGetProperty("dropout", out var dr) && dr.ValueKind == JsonValueKind.Number && dr.GetDouble() > 0)
                throw new InvalidDataException($"{path}: model.dropout {dr.GetDouble()} makes encoding random; set it to null.");

            var vocab = ReadVocab(Required(model, "vocab", path), path);
            var merges = ReadMerges(Required(model, "merges", path), path);
            var ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True;

            var added = new List<AddedToken>();
            if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in addedJson.EnumerateArray())
                {
                    var where = $"{path}: added_tokens[{i++}]";
                    if (!item.TryGetProperty("id", out var idJson) || !idJson.TryGetInt32(out var id))
                        throw new InvalidDataException($"{where} has no integer \"id\".");
                    added.Add(ReadAddedToken(item, id, where));
                }
            }

            var nfc = ReadNormalizer(root, path);
            var preTokenizer = ReadPreTokenizer(root, path);
            RequireByteLevelDecoder(root, path);
            var (prefix, suffix) = ReadPostProcessor(root, path);
            return new TokenizerModel(path, vocab, merges, added, nfc, preTokenizer, ignoreMerges, prefix, suffix);
        }
    }

    public static AddedToken ReadAddedToken(JsonElement item, int id, string where)
    {
        if (!item.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String || content.GetString()!.Length == 0)
            throw new InvalidDataException($"{where} has no non-empty \"content\".");
        bool Flag(string name, bool fallback) =>
            item.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.True : fallback;
        var special = Flag("special", false);
        // Hugging Face's default: special tokens are matched on the raw text, the others after normalisation.
        return new AddedToken(id, content.GetString()!, special,
            Normalized: Flag("normalized", !special), LStrip: Flag("lstrip", false), RStrip: Flag("rstrip", false), SingleWord: Flag("single_word", false));
    }

    static JsonElement Required(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) ? value : throw new InvalidDataException($"{path}: missing \"{name}\".");

    static Dictionary<string, int> ReadVocab(JsonElement vocab, string path)
    {
        if (vocab.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: model.vocab must be an object of token → id.");
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            if (!entry.Value.TryGetInt32(out var id) || id < 0)
                throw new InvalidDataException($"{path}: model.vocab[\"{entry.Name}\"] is not a non-negative integer id.");
            map[entry.Name] = id;
        }
        return map;
    }

    /// <summary>Merges are "a b" strings (older files) or ["a", "b"] pairs (tokenizers ≥ 0.20).</summary>
    static List<string> ReadMerges(JsonElement merges, string path)
    {
        if (merges.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: model.merges must be an array.");
        var list = new List<string>(merges.GetArrayLength());
        var i = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String) list.Add(merge.GetString()!);
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
                list.Add(merge[0].GetString() + " " + merge[1].GetString());
            else throw new InvalidDataException($"{path}: model.merges[{i}] must be \"a b\" or [\"a\", \"b\"].");
            i++;
        }
        return list;
    }

    static bool ReadNormalizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return false;
        var type = n.GetProperty("type").GetString();
        if (type == "NFC") return true;
        if (type == "Sequence" && n.TryGetProperty("normalizers", out var list))
        {
            var types = list.EnumerateArray().Select(x => x.GetProperty("type").GetString()).ToList();
            if (types.All(x => x == "NFC")) return types.Count > 0;
            throw new InvalidDataException($"{path}: normalizer Sequence [{string.Join(", ", types)}] is not supported; only NFC (or none) is.");
        }
        throw new InvalidDataException($"{path}: normalizer \"{type}\" is not supported; only NFC (or none) is.");
    }

    static PreTokenizer ReadPreTokenizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var p) || p.ValueKind == JsonValueKind.Null)
            throw new InvalidDataException($"{path}: pre_tokenizer is missing; a byte-level BPE needs a Split and/or ByteLevel pre-tokenizer.");
        var steps = p.GetProperty("type").GetString() == "Sequence" ? p.GetProperty("pretokenizers").EnumerateArray().ToList() : [p];

        string? pattern = null;
        var byteLevel = false;
        foreach (var step in steps)
        {
            var type = step.GetProperty("type").GetString();
            switch (type)
            {
                case "Split":
                    if (pattern != null) throw new InvalidDataException($"{path}: more than one Split pre-tokenizer is not supported.");
                    var behavior = step.TryGetProperty("behavior", out var b) ? b.GetString() : null;
                    var invert = step.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True;
                    if (behavior != "Isolated" || invert)
                        throw new InvalidDataException($"{path}: Split pre-tokenizer with behavior \"{behavior}\" invert={invert} is not supported (Isolated, invert=false is).");
                    var pat = step.GetProperty("pattern");
                    pattern = pat.TryGetProperty("Regex", out var rx) ? rx.GetString()
                        : pat.TryGetProperty("String", out var str) ? Regex.Escape(str.GetString()!)
                        : throw new InvalidDataException($"{path}: Split pattern must be {{\"Regex\": ...}} or {{\"String\": ...}}.");
                    break;
                case "ByteLevel":
                    byteLevel = true;
                    if (step.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                        throw new InvalidDataException($"{path}: ByteLevel add_prefix_space=true is not supported.");
                    var useRegex = !step.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False;
                    if (useRegex)
                    {
                        if (pattern != null) throw new InvalidDataException($"{path}: a Split pre-tokenizer followed by ByteLevel use_regex=true is not supported.");
                        pattern = Gpt2Pattern;
                    }
                    break;
                default:
                    throw new InvalidDataException($"{path}: pre-tokenizer \"{type}\" is not supported (Split and ByteLevel are).");
            }
        }
        if (!byteLevel) throw new InvalidDataException($"{path}: pre_tokenizer has no ByteLevel step; only byte-level BPE is supported.");
        if (pattern is null) throw new InvalidDataException($"{path}: pre_tokenizer has no split pattern.");
        // Known patterns get the exact code-point scanner; others .NET's regex (exact for text in the BMP).
        return (PreTokenizer?)SplitPreTokenizer.ForPattern(pattern) ?? new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), null);
    }

    static void RequireByteLevelDecoder(JsonElement root, string path)
    {
        if (!root.TryGetProperty("decoder", out var d) || d.ValueKind == JsonValueKind.Null) return;
        var type = d.GetProperty("type").GetString();
        if (type == "ByteLevel") return;
        if (type == "Sequence" && d.GetProperty("decoders").EnumerateArray().Any(x => x.GetProperty("type").GetString() == "ByteLevel")) return;
        throw new InvalidDataException($"{path}: decoder \"{type}\" is not supported; byte-level BPE uses the ByteLevel decoder.");
    }

    /// <summary>The ids a TemplateProcessing post-processor puts before and after a single sequence.</summary>
    static (int[] Prefix, int[] Suffix) ReadPostProcessor(JsonElement root, string path)
    {
        if (!root.TryGetProperty("post_processor", out var p) || p.ValueKind == JsonValueKind.Null) return ([], []);
        var processors = p.GetProperty("type").GetString() == "Sequence" ? p.GetProperty("processors").EnumerateArray().ToList() : [p];
        foreach (var proc in processors)
        {
            var type = proc.GetProperty("type").GetString();
            if (type == "ByteLevel") continue;
            if (type != "TemplateProcessing")
                throw new InvalidDataException($"{path}: post_processor \"{type}\" is not supported (ByteLevel and TemplateProcessing are).");
            var specialIds = new Dictionary<string, int[]>(StringComparer.Ordinal);
            foreach (var entry in proc.GetProperty("special_tokens").EnumerateObject())
                specialIds[entry.Name] = entry.Value.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            List<int> prefix = [], suffix = [];
            var seenSequence = false;
            foreach (var piece in proc.GetProperty("single").EnumerateArray())
            {
                if (piece.TryGetProperty("Sequence", out _)) { seenSequence = true; continue; }
                var name = piece.GetProperty("SpecialToken").GetProperty("id").GetString()!;
                if (!specialIds.TryGetValue(name, out var ids))
                    throw new InvalidDataException($"{path}: post_processor template names \"{name}\", which is not in its special_tokens.");
                (seenSequence ? suffix : prefix).AddRange(ids);
            }
            return (prefix.ToArray(), suffix.ToArray());
        }
        return ([], []);
    }
}
