namespace Sft.Training.Tokenization.Templates;

/// <summary>
/// The built-in templates by name, and detection from a tokenizer's Jinja chat template:
/// Qwen2.5's default system sentence → <c>qwen</c>; ChatML with &lt;think&gt; → <c>qwen3</c>; ChatML with
/// "You are a helpful assistant." → <c>qwen2</c>; other ChatML → <c>chatml</c>; Llama 3 headers → <c>llama3</c>.
/// </summary>
public static class PromptTemplates
{
    public const string QwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    public const string Qwen2DefaultSystem = "You are a helpful assistant.";

    static readonly PromptTemplate[] All =
    [
        new ChatMlTemplate("chatml"),
        new ChatMlTemplate("qwen", QwenDefaultSystem),
        new ChatMlTemplate("qwen2", Qwen2DefaultSystem),
        new ChatMlTemplate("qwen3", qwen3Thinking: true),
        new Llama3Template(),
        new AlpacaTemplate(),
        new MindFormersAlpacaTemplate(),
    ];

    static readonly Dictionary<string, PromptTemplate> ByName = BuildNames();

    static Dictionary<string, PromptTemplate> BuildNames()
    {
        var names = All.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);
        names["qwen2.5"] = names["qwen"];
        return names;
    }

    public static IReadOnlyCollection<string> Names => All.Select(t => t.Name).ToArray();

    public static PromptTemplate Get(string name) => ByName.TryGetValue(name.Trim(), out var t) ? t
        : throw new ArgumentException($"Unknown prompt template '{name}'. Known templates: {string.Join(", ", Names)} (also qwen2.5 = qwen).");

    /// <summary>The template a Jinja chat template corresponds to, or null when it is none of the known families.</summary>
    public static PromptTemplate? Detect(string? chatTemplate)
    {
        if (string.IsNullOrEmpty(chatTemplate)) return null;
        if (chatTemplate.Contains("<|im_start|>", StringComparison.Ordinal))
        {
            if (chatTemplate.Contains(QwenDefaultSystem, StringComparison.Ordinal)) return Get("qwen");
            if (chatTemplate.Contains("<think>", StringComparison.Ordinal)) return Get("qwen3");
            if (chatTemplate.Contains(Qwen2DefaultSystem, StringComparison.Ordinal)) return Get("qwen2");
            return Get("chatml");
        }
        if (chatTemplate.Contains("<|start_header_id|>", StringComparison.Ordinal)) return Get("llama3");
        return null;
    }

    /// <summary>The configured template, else the one detected from the tokenizer's chat template.</summary>
    public static PromptTemplate Resolve(string? configured, HfTokenizer tokenizer)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return Get(configured);
        return Detect(tokenizer.ChatTemplate) ?? throw new InvalidOperationException(
            $"No prompt template configured and the chat template of {tokenizer.Source} is " +
            (tokenizer.ChatTemplate is null ? "missing" : "not one of the known families") +
            $". Set the template to one of: {string.Join(", ", Names)}.");
    }
}
