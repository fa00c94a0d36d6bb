namespace Sft.Training.Tokenization;

/// <summary>Tokenizers shipped with the engine (src/Training/Assets/tokenizers, copied beside the binaries).</summary>
public static class BuiltInTokenizers
{
    /// <summary>The Qwen2/Qwen3 byte-level BPE tokenizer (tokenizer.json.gz + tokenizer_config.json with its chat template).</summary>
    public static string QwenDirectory => Path.Combine(AppContext.BaseDirectory, "Assets", "tokenizers", "qwen");

    static readonly Lazy<HfTokenizer> Qwen = new(() => HfTokenizer.FromDirectory(QwenDirectory));

    /// <summary>The Qwen tokenizer, loaded once per process.</summary>
    public static HfTokenizer LoadQwen() => Qwen.Value;
}
