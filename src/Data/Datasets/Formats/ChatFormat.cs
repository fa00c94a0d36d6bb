using System.Text;
using System.Text.Json.Nodes;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Formats;

/// <summary>
/// Multi-turn rows: sharegpt (<c>conversations</c>: [{from, value}], tags human/gpt/system/function_call/
/// observation) and OpenAI-style (<c>messages</c>: [{role, content, loss_weight?}], roles
/// user/assistant/system/tool). A leading system turn becomes <see cref="Conversation.System"/>, else
/// the optional <c>system</c> column does. Content may be a string or a list of text parts
/// ([{type: "text", text|value: ...}]). The conversation must end with a non-empty assistant reply.
/// </summary>
public sealed class ChatFormat : IRowConverter
{
    private static readonly (Role Role, string[] Tags)[] KnownTags =
    [
        (Role.User, ["human", "user"]),
        (Role.Assistant, ["gpt", "assistant", "chatgpt", "bard", "bing", "model", "function_call", "tool_call", "tool_calls"]),
        (Role.System, ["system", "developer"]),
        (Role.Tool, ["observation", "tool", "function", "function_response", "ipython"]),
    ];

    private readonly string _column, _roleKey, _contentKey, _lossKey, _system;
    private readonly Dictionary<string, Role> _tags = new(StringComparer.Ordinal);

    public ChatFormat(DatasetFormat format, ColumnMapping columns)
    {
        if (format is not (DatasetFormat.ShareGpt or DatasetFormat.Messages))
            throw new ArgumentException("ChatFormat reads sharegpt or messages rows.", nameof(format));
        Format = format;
        bool sharegpt = format == DatasetFormat.ShareGpt;
        _column = columns.Messages ?? (sharegpt ? "conversations" : "messages");
        _roleKey = columns.RoleKey ?? (sharegpt ? "from" : "role");
        _contentKey = columns.ContentKey ?? (sharegpt ? "value" : "content");
        _lossKey = columns.LossWeightKey ?? "loss_weight";
        _system = columns.System ?? "system";
        // Mapped tags first: they win over a built-in name that means something else.
        foreach (var (tag, role) in new[] { (columns.UserTag, Role.User), (columns.AssistantTag, Role.Assistant), (columns.FunctionTag, Role.Assistant),
                     (columns.SystemTag, Role.System), (columns.ToolTag, Role.Tool) })
            if (tag is not null) _tags.TryAdd(tag, role);
        foreach (var (role, tags) in KnownTags)
            foreach (var tag in tags) _tags.TryAdd(tag, role);
    }

    public DatasetFormat Format { get; }

    public DatasetExample Convert(RawRow row)
    {
        var list = Fields.RequiredArray(row, _column, "the list of turns", () => ColumnSuggestions.For(row.Columns, "messages"));
        var system = Fields.OptionalString(row, _system, "system");
        var turns = new List<Turn>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            var what = $"turn {i + 1} of column '{_column}'";
            if (list[i] is not JsonObject message)
                throw new DatasetException($"{what} is {Fields.AKind(list[i])}, expected an object with '{_roleKey}' and '{_contentKey}'.", row.Location);
            var role = RoleOf(message, what, row.Location);
            var content = Content(message[_contentKey], what, row.Location);
            var weight = Fields.AsNumber(message[_lossKey], $"{what} '{_lossKey}'", row.Location);
            if (role == Role.System && turns.Count == 0)
            {
                system = content;
                continue;
            }
            if (role == Role.Assistant && string.IsNullOrWhiteSpace(content))
                throw new DatasetException($"empty assistant reply in {what}. Fill in the reply or remove the row.", row.Location);
            turns.Add(new Turn(role, content, weight));
        }
        if (turns.Count == 0)
            throw new DatasetException($"column '{_column}' has no turns besides the system prompt; a row needs at least a user turn and an assistant reply.", row.Location);
        if (turns[^1].Role != Role.Assistant)
            throw new DatasetException(
                $"the conversation ends with a {turns[^1].Role.ToString().ToLowerInvariant()} turn; the last turn must be the assistant's reply to learn from. " +
                "Remove the trailing turn or add the reply.", row.Location);
        var conversation = new Conversation(turns, string.IsNullOrEmpty(system) ? null : system);
        return new DatasetExample(conversation, null, row.Location);
    }

    private Role RoleOf(JsonObject message, string what, string location)
    {
        if (!message.TryGetPropertyValue(_roleKey, out var node))
            throw new DatasetException(
                $"{what} has no '{_roleKey}' key; its keys: {string.Join(", ", message.Select(p => p.Key))}. " +
                "Map the role and content keys, e.g. columns: {role: <key>, content: <key>}.", location);
        var tag = Fields.AsString(node, $"{what} '{_roleKey}'", location) ?? "";
        if (_tags.TryGetValue(tag, out var role)) return role;
        var known = string.Join("; ", KnownTags.Select(k => $"{k.Role.ToString().ToLowerInvariant()}: {string.Join("/", k.Tags)}"));
        throw new DatasetException(
            $"{what} has role '{tag}', which is not a known role ({known}). Map it, e.g. columns: {{assistant_tag: {tag}}} or {{user_tag: {tag}}}.", location);
    }

    /// <summary>A string, or a list of text parts joined together; null content reads as empty.</summary>
    private string Content(JsonNode? node, string what, string location)
    {
        if (node is JsonArray parts)
        {
            var text = new StringBuilder();
            for (int p = 0; p < parts.Count; p++)
            {
                if (parts[p] is JsonValue plain && plain.TryGetValue<string>(out var s)) { text.Append(s); continue; }
                if (parts[p] is not JsonObject part)
                    throw new DatasetException($"{what} content part {p + 1} is {Fields.AKind(parts[p])}, expected {{type: \"text\", text: ...}}.", location);
                var type = Fields.AsString(part["type"], $"{what} content part {p + 1} 'type'", location) ?? "text";
                if (type != "text")
                    throw new DatasetException($"{what} content part {p + 1} has type '{type}'; only text parts are supported. Remove non-text parts.", location);
                text.Append(Fields.AsString(part["text"] ?? part["value"], $"{what} content part {p + 1} text", location));
            }
            return text.ToString();
        }
        return Fields.AsString(node, $"{what} '{_contentKey}'", location) ?? "";
    }
}
