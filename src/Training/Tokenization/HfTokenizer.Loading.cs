namespace Sft.Training.Tokenization;

/// <summary>
/// Special token strings that replace a tokenizer's own (the MindFormers tokenizer block's <c>pad_token</c>,
/// <c>eos_token</c>, <c>bos_token</c>, <c>unk_token</c>); null keeps the tokenizer's.
/// </summary>
public sealed record SpecialTokenOverrides(string? PadToken = null, string? EosToken = null, string? BosToken = null, string? UnkToken = null)
{
    internal TokenizerConfig ApplyTo(TokenizerConfig c) => c with
    {
        PadToken = PadToken ?? c.PadToken, EosToken = EosToken ?? c.EosToken,
        BosToken = BosToken ?? c.BosToken, UnkToken = UnkToken ?? c.UnkToken,
    };
}

/// <summary>
/// Which tokenizer a training job uses: an explicit <paramref name="TokenizerFile"/> (tokenizer.json), or
/// <paramref name="VocabFile"/> + <paramref name="MergesFile"/> (a Qwen2Tokenizer), else the model <paramref name="Folder"/>'s
/// own files; <paramref name="Folder"/>'s tokenizer_config.json supplies the chat template and added tokens when present.
/// </summary>
public sealed record TokenizerSpec(
    string? Folder = null, string? TokenizerFile = null, string? VocabFile = null, string? MergesFile = null,
    SpecialTokenOverrides? Overrides = null);

public sealed partial class HfTokenizer
{
    /// <summary>The tokenizer a <see cref="TokenizerSpec"/> names.</summary>
    public static HfTokenizer Load(TokenizerSpec spec)
    {
        var folderConfig = spec.Folder is { Length: > 0 } folder && File.Exists(Path.Combine(folder, "tokenizer_config.json"))
            ? Path.Combine(folder, "tokenizer_config.json") : null;
        if (spec.TokenizerFile is { } file)
        {
            var beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", "tokenizer_config.json");
            return FromTokenizerJson(file, File.Exists(beside) ? beside : folderConfig, spec.Overrides);
        }
        if (spec.VocabFile is not null || spec.MergesFile is not null)
        {
            if (spec.VocabFile is null || spec.MergesFile is null)
                throw new ArgumentException("A BPE tokenizer needs vocab_file and merges_file together.", nameof(spec));
            var o = spec.Overrides ?? new SpecialTokenOverrides();
            var defaults = new Qwen2TokenizerOptions(spec.VocabFile, spec.MergesFile);
            return FromVocabAndMerges(defaults with
            {
                UnkToken = o.UnkToken ?? defaults.UnkToken, BosToken = o.BosToken,
                EosToken = o.EosToken ?? defaults.EosToken, PadToken = o.PadToken ?? defaults.PadToken,
                TokenizerConfigFile = folderConfig,
            });
        }
        if (spec.Folder is { Length: > 0 } modelFolder) return FromDirectory(modelFolder, spec.Overrides);
        throw new ArgumentException("No tokenizer: give a tokenizer file, vocab + merges files, or a model folder.", nameof(spec));
    }

    /// <summary>
    /// A tokenizer folder: <c>tokenizer.json</c> (or <c>tokenizer.json.gz</c>) with <c>tokenizer_config.json</c> when
    /// present; else <c>vocab.json</c> + <c>merges.txt</c> as a Qwen2Tokenizer with the config's special tokens.
    /// </summary>
    public static HfTokenizer FromDirectory(string directory, SpecialTokenOverrides? overrides = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Tokenizer folder not found: {directory}");
        var config = Path.Combine(directory, "tokenizer_config.json");
        var configPath = File.Exists(config) ? config : null;
        foreach (var name in new[] { "tokenizer.json", "tokenizer.json.gz" })
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) return FromTokenizerJson(path, configPath, overrides);
        }
        var vocab = Path.Combine(directory, "vocab.json");
        var merges = Path.Combine(directory, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges))
        {
            var cfg = (overrides ?? new SpecialTokenOverrides()).ApplyTo(configPath is null ? TokenizerConfig.Empty : TokenizerConfig.Read(configPath));
            var defaults = new Qwen2TokenizerOptions(vocab, merges);
            return FromVocabAndMerges(defaults with
            {
                UnkToken = cfg.UnkToken ?? defaults.UnkToken, BosToken = cfg.BosToken,
                EosToken = cfg.EosToken ?? defaults.EosToken, PadToken = cfg.PadToken ?? defaults.PadToken,
                TokenizerConfigFile = configPath,
            });
        }
        var found = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order().Take(20);
        throw new FileNotFoundException(
            $"No tokenizer in {directory}: expected tokenizer.json (or tokenizer.json.gz), or vocab.json + merges.txt " +
            $"(found: {string.Join(", ", found)}).");
    }

    public static HfTokenizer FromTokenizerJson(string tokenizerJsonPath, string? tokenizerConfigPath = null, SpecialTokenOverrides? overrides = null)
    {
        if (!File.Exists(tokenizerJsonPath)) throw new FileNotFoundException($"tokenizer.json not found: {tokenizerJsonPath}");
        var config = tokenizerConfigPath is null ? TokenizerConfig.Empty : TokenizerConfig.Read(tokenizerConfigPath);
        return new HfTokenizer(TokenizerJson.Read(tokenizerJsonPath), (overrides ?? new SpecialTokenOverrides()).ApplyTo(config));
    }

    /// <summary>From streams (embedded resources, archives): tokenizer.json, optionally gzip, and tokenizer_config.json.</summary>
    public static HfTokenizer FromStreams(Stream tokenizerJson, bool gzip, Stream? tokenizerConfig, string source)
    {
        var config = TokenizerConfig.Empty;
        if (tokenizerConfig is not null)
        {
            using var buffer = new MemoryStream();
            tokenizerConfig.CopyTo(buffer);
            config = TokenizerConfig.Read(buffer.ToArray(), source + " tokenizer_config.json");
        }
        return new HfTokenizer(TokenizerJson.Read(tokenizerJson, gzip, source), config);
    }

    public static HfTokenizer FromVocabAndMerges(Qwen2TokenizerOptions options)
    {
        var (model, config) = VocabMergesFiles.Read(options);
        return new HfTokenizer(model, config);
    }
}
