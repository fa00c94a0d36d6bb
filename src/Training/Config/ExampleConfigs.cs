using System.Reflection;

namespace Sft.Training.Config;

/// <summary>
/// The example configs embedded in this assembly: the MindSpore Transformers SFT guide's Qwen2.5-7B full and
/// LoRA configs and a tiny CPU demo. Names are file names (<c>demo_tiny.yaml</c>).
/// </summary>
public static class ExampleConfigs
{
    const string Prefix = "Sft.Training.Config.Examples.";

    public const string Qwen25_7B = "finetune_qwen2_5_7b_8k.yaml";
    public const string Qwen25_7BLora = "finetune_qwen2_5_7b_8k_lora.yaml";
    public const string DemoTiny = "demo_tiny.yaml";

    static Assembly Assembly => typeof(ExampleConfigs).Assembly;

    public static IReadOnlyList<string> Names =>
        Assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..]).Order(StringComparer.Ordinal).ToList();

    /// <summary>The YAML text of <paramref name="name"/>; throws <see cref="ArgumentException"/> listing the names for an unknown one.</summary>
    public static string Read(string name)
    {
        using var stream = Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new ArgumentException($"No example config '{name}'. Examples: {string.Join(", ", Names)}.", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
