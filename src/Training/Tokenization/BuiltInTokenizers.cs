namespace Sft.Training.Tokenization;

/// <summary>
/// Tokenizers built into the engine: src/Training/Assets/tokenizers, embedded in the assembly (resource names
/// <c>Sft.Training/tokenizers/{name}/{file}</c>), so no repository checkout is needed at run time.
/// </summary>
public static class BuiltInTokenizers
{
    /// <summary>Resource name prefix of the embedded tokenizer files (see Sft.Training.csproj).</summary>
    public const string ResourcePrefix = "Sft.Training/tokenizers/";
    const string Prefix = ResourcePrefix;

    public static IReadOnlyList<string> Names { get; } = typeof(BuiltInTokenizers).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..].Split('/')[0]).Distinct().Order(StringComparer.Ordinal).ToList();

    static readonly Lazy<HfTokenizer> Qwen = new(() => Create("qwen"));

    /// <summary>The Qwen2/Qwen3 byte-level BPE tokenizer (with its chat template), loaded once per process.</summary>
    public static HfTokenizer LoadQwen() => Qwen.Value;

    /// <summary>A new instance of a built-in tokenizer (its own piece cache), by name.</summary>
    public static HfTokenizer Create(string name)
    {
        var assembly = typeof(BuiltInTokenizers).Assembly;
        using var json = assembly.GetManifestResourceStream($"{Prefix}{name}/tokenizer.json.gz")
            ?? throw new ArgumentException($"No built-in tokenizer '{name}'. Built in: {string.Join(", ", Names)}.", nameof(name));
        using var config = assembly.GetManifestResourceStream($"{Prefix}{name}/tokenizer_config.json");
        return HfTokenizer.FromStreams(json, gzip: true, config, $"built-in tokenizer '{name}'");
    }
}
