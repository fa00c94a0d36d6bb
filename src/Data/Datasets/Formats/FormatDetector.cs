using System.Text.Json.Nodes;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Formats;

/// <summary>
/// Tells a dataset's format from its first row: <c>input_ids</c> means pre-tokenized; a list of turns
/// (<c>conversations</c>, <c>messages</c> or the mapped column) means sharegpt when its turns use
/// <c>from</c>/<c>value</c> and messages when they use <c>role</c>/<c>content</c>; <c>instruction</c> and
/// <c>output</c> (or their mapped names) mean alpaca.
/// </summary>
public static class FormatDetector
{
    public static DatasetFormat Detect(RawRow row, ColumnMapping columns)
    {
        var values = row.Values;
        if (values.ContainsKey(columns.InputIds ?? "input_ids")) return DatasetFormat.PreTokenized;

        var chatColumn = columns.Messages is { } mapped ? (values.ContainsKey(mapped) ? mapped : null)
            : values.ContainsKey("conversations") ? "conversations"
            : values.ContainsKey("messages") ? "messages" : null;
        if (chatColumn is not null) return ChatKind(row, chatColumn, columns);

        if (values.ContainsKey(columns.Instruction ?? "instruction") && values.ContainsKey(columns.Output ?? "output"))
            return DatasetFormat.Alpaca;

        throw new DatasetException(
            $"cannot tell the dataset format from its columns. Columns found: {string.Join(", ", row.Columns)}. " +
            ColumnSuggestions.ForUnknown(row.Columns), row.Location);
    }

    private static DatasetFormat ChatKind(RawRow row, string column, ColumnMapping columns)
    {
        var list = Fields.AsArray(row.Values[column], $"column '{column}'", row.Location);
        var first = list?.OfType<JsonObject>().FirstOrDefault();
        if (columns.RoleKey is { } roleKey && first is not null && first.ContainsKey(roleKey))
            return roleKey == "from" || column == "conversations" ? DatasetFormat.ShareGpt : DatasetFormat.Messages;
        if (first is not null && (first.ContainsKey("from") || first.ContainsKey("value"))) return DatasetFormat.ShareGpt;
        if (first is not null && (first.ContainsKey("role") || first.ContainsKey("content"))) return DatasetFormat.Messages;
        return column == "messages" ? DatasetFormat.Messages : DatasetFormat.ShareGpt;
    }
}
