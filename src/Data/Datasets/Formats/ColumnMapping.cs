namespace Sft.Data.Datasets.Formats;

/// <summary>
/// Which dataset column (or message key, or role tag) plays which part. Null means the format's
/// default: alpaca <c>instruction</c>/<c>input</c>/<c>output</c>/<c>system</c>/<c>history</c>; sharegpt
/// <c>conversations</c> with <c>from</c>/<c>value</c>; messages <c>messages</c> with <c>role</c>/<c>content</c>/
/// <c>loss_weight</c>; pre-tokenized <c>input_ids</c>/<c>labels</c>/<c>attention_mask</c>. Tags add to the
/// role names a format already knows (e.g. <c>assistant_tag: teacher</c>).
/// </summary>
public sealed record ColumnMapping
{
    public string? Instruction { get; init; }
    public string? Input { get; init; }
    public string? Output { get; init; }
    public string? System { get; init; }
    public string? History { get; init; }
    /// <summary>The column holding the list of turns (sharegpt <c>conversations</c>, OpenAI <c>messages</c>).</summary>
    public string? Messages { get; init; }
    public string? RoleKey { get; init; }
    public string? ContentKey { get; init; }
    public string? LossWeightKey { get; init; }
    public string? UserTag { get; init; }
    public string? AssistantTag { get; init; }
    public string? SystemTag { get; init; }
    /// <summary>Tool results (sharegpt <c>observation</c>, OpenAI <c>tool</c>).</summary>
    public string? ToolTag { get; init; }
    /// <summary>Assistant tool calls (sharegpt <c>function_call</c>).</summary>
    public string? FunctionTag { get; init; }
    public string? InputIds { get; init; }
    public string? Labels { get; init; }
    public string? AttentionMask { get; init; }

    public static ColumnMapping Default { get; } = new();

    /// <summary>The config keys <see cref="Parse"/> accepts, each with the property it sets.</summary>
    private static readonly (string[] Keys, Func<ColumnMapping, string, ColumnMapping> Set, Func<ColumnMapping, string?> Get)[] Entries =
    [
        (["instruction"], (m, v) => m with { Instruction = v }, m => m.Instruction),
        (["input"], (m, v) => m with { Input = v }, m => m.Input),
        (["output"], (m, v) => m with { Output = v }, m => m.Output),
        (["system"], (m, v) => m with { System = v }, m => m.System),
        (["history"], (m, v) => m with { History = v }, m => m.History),
        (["messages", "conversations"], (m, v) => m with { Messages = v }, m => m.Messages),
        (["role", "role_tag"], (m, v) => m with { RoleKey = v }, m => m.RoleKey),
        (["content", "content_tag"], (m, v) => m with { ContentKey = v }, m => m.ContentKey),
        (["loss_weight"], (m, v) => m with { LossWeightKey = v }, m => m.LossWeightKey),
        (["user_tag", "user"], (m, v) => m with { UserTag = v }, m => m.UserTag),
        (["assistant_tag", "assistant"], (m, v) => m with { AssistantTag = v }, m => m.AssistantTag),
        (["system_tag"], (m, v) => m with { SystemTag = v }, m => m.SystemTag),
        (["tool_tag", "observation_tag", "tool", "observation"], (m, v) => m with { ToolTag = v }, m => m.ToolTag),
        (["function_tag", "function_call"], (m, v) => m with { FunctionTag = v }, m => m.FunctionTag),
        (["input_ids"], (m, v) => m with { InputIds = v }, m => m.InputIds),
        (["labels"], (m, v) => m with { Labels = v }, m => m.Labels),
        (["attention_mask"], (m, v) => m with { AttentionMask = v }, m => m.AttentionMask),
    ];

    /// <summary>
    /// Builds a mapping from config entries, part name to dataset name, e.g.
    /// <c>{instruction: prompt, output: response}</c> or <c>{messages: conversation, role_tag: speaker}</c>.
    /// Unknown part names are an error that lists the valid ones.
    /// </summary>
    public static ColumnMapping Parse(IReadOnlyDictionary<string, string> entries)
    {
        var mapping = Default;
        foreach (var (key, value) in entries)
        {
            var entry = Entries.FirstOrDefault(e => e.Keys.Contains(key.Trim().ToLowerInvariant()));
            if (entry.Keys is null)
                throw new DatasetException(
                    $"unknown column mapping key '{key}'; valid keys: {string.Join(", ", Entries.Select(e => e.Keys[0]))}.");
            if (string.IsNullOrWhiteSpace(value))
                throw new DatasetException($"column mapping '{key}' is empty; name the dataset column (or key, or tag) it reads.");
            mapping = entry.Set(mapping, value.Trim());
        }
        return mapping;
    }

    /// <summary>The entries that differ from the defaults, with their canonical keys (for display and storage).</summary>
    public IReadOnlyDictionary<string, string> ToDictionary() => Entries
        .Where(e => e.Get(this) is not null)
        .ToDictionary(e => e.Keys[0], e => e.Get(this)!);
}
