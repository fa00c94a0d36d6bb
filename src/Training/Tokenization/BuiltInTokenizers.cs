using Sft.Training.Models;

namespace Sft.Training.Tokenization;

/// <summary>Tokenizers shipped inside the engine assembly (src/Training/Assets/tokenizers, embedded).</summary>
public static class BuiltInTokenizers
{
    static readonly Lazy<string> QwenFolder = new(() => Extract("qwen"));
    static readonly Lazy<HfTokenizer> Qwen = new(() => HfTokenizer.FromDirectory(QwenFolder.Value));

    /// <summary>A folder holding the Qwen2/Qwen3 byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json
    /// with its chat template), written once per process from the embedded copy.</summary>
    public static string QwenDirectory => QwenFolder.Value;

    /// <summary>The Qwen tokenizer, loaded once per process.</summary>
    public static HfTokenizer LoadQwen() => Qwen.Value;

    static string Extract(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sft-tokenizers-{Environment.ProcessId}", name);
        Directory.CreateDirectory(folder);
        ModelPresets.WriteTokenizer(name, folder);
        return folder;
    }
}
