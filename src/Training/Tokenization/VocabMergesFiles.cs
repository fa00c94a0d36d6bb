using System.IO.Compression;
using System.Text.Json;

namespace Sft.Training.Tokenization;

/// <summary>
/// A Qwen2Tokenizer given as <c>vocab.json</c> + <c>merges.txt</c> with explicit special tokens: the origin
/// MindFormers YAML block <c>processor.tokenizer: {type: Qwen2Tokenizer, vocab_file, merges_file, unk_token,
/// pad_token, eos_token, bos_token}</c>. Defaults are Qwen2Tokenizer's. <paramref name="TokenizerConfigFile"/>
/// (optional) adds its <c>added_tokens_decoder</c> table and chat template. Files ending in .gz are read through gzip.
/// </summary>
public sealed record Qwen2TokenizerOptions(
    string VocabFile, string MergesFile,
    string? UnkToken = "<|endoftext|>", string? BosToken = null,
    string? EosToken = "<|endoftext|>", string? PadToken = "<|endoftext|>",
    string? TokenizerConfigFile = null);

internal static class VocabMergesFiles
{
    // Qwen2Tokenizer (HF transformers and MindFormers research/qwen2/qwen2_tokenizer.py) always knows these three,
    // at the ids right after the BPE vocabulary (151643, 151644, 151645 for Qwen's).
    static readonly string[] QwenControlTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    public static (TokenizerModel Model, TokenizerConfig Config) Read(Qwen2TokenizerOptions options)
    {
        var vocab = ReadVocab(options.VocabFile);
        var merges = ReadMerges(options.MergesFile);
        var config = options.TokenizerConfigFile is { } cfg ? TokenizerConfig.Read(cfg) : TokenizerConfig.Empty;

        var added = new List<AddedToken>(config.AddedTokens);
        var nextId = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max(t => t.Id) + 1);
        var wanted = QwenControlTokens.Concat(new[] { options.UnkToken, options.BosToken, options.EosToken, options.PadToken }.OfType<string>());
        foreach (var content in wanted.Distinct(StringComparer.Ordinal))
        {
            if (added.Any(t => t.Content == content)) continue;
            if (vocab.TryGetValue(content, out var inVocab)) { added.Add(new AddedToken(inVocab, content, Special: true)); continue; }
            added.Add(new AddedToken(nextId++, content, Special: true));
        }

        config = config with
        {
            UnkToken = options.UnkToken, BosToken = options.BosToken, EosToken = options.EosToken, PadToken = options.PadToken,
            AddedTokens = added,
        };
        var model = new TokenizerModel($"{options.VocabFile} + {options.MergesFile}", vocab, merges, added,
            Nfc: true, new SplitPreTokenizer(1), IgnoreMerges: false, Prefix: [], Suffix: []);
        return (model, config);
    }

    static Dictionary<string, int> ReadVocab(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"vocab_file not found: {path}");
        try
        {
            using var stream = Open(path);
            var map = JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
                ?? throw new InvalidDataException($"{path}: expected an object of token → id.");
            return new Dictionary<string, int>(map, StringComparer.Ordinal);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a vocab.json (an object of token → integer id): {e.Message}"); }
    }

    static Stream Open(string path)
    {
        var file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    static List<string> ReadMerges(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"merges_file not found: {path}");
        var merges = new List<string>();
        var lineNo = 0;
        using var reader = new StreamReader(Open(path));
        while (reader.ReadLine() is { } raw)
        {
            lineNo++;
            var line = raw.Trim();
            // Only the first line may be the "#version" header: "# #" and the like are real merges.
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) throw new InvalidDataException($"{path}:{lineNo}: a merge is two tokens separated by one space, got \"{line}\".");
            merges.Add(parts[0] + " " + parts[1]);
        }
        return merges;
    }
}
