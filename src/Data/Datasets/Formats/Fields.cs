using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Formats;

/// <summary>
/// Typed access to a row's values with errors that name the row and column. Lists may also arrive as
/// JSON text (CSV cells, parquet string columns) and numbers as numeric strings; both are accepted.
/// </summary>
internal static class Fields
{
    public static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind() switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Array => "list",
        JsonValueKind.Object => "object",
        _ => "null",
    };

    /// <summary>The kind with its article: "a string", "an object".</summary>
    public static string AKind(JsonNode? node) => Kind(node) is var kind && kind[0] is 'a' or 'e' or 'i' or 'o' or 'u' ? "an " + kind : "a " + kind;

    /// <summary>The string in <paramref name="node"/>; null for a missing or null value.</summary>
    public static string? AsString(JsonNode? node, string what, string location)
    {
        if (node is null) return null;
        if (node is JsonValue value)
        {
            if (value.TryGetValue<string>(out var s)) return s;
            if (node.GetValueKind() == JsonValueKind.Number) return node.ToJsonString();
        }
        throw new DatasetException($"{what} is {AKind(node)}, expected a string.", location);
    }

    public static string RequiredString(RawRow row, string column, string what, Func<string> missingHelp)
    {
        if (!row.Values.TryGetPropertyValue(column, out var node)) throw Missing(row, column, what, missingHelp);
        return AsString(node, $"column '{column}' ({what})", row.Location) ?? "";
    }

    public static string? OptionalString(RawRow row, string column, string what) =>
        row.Values.TryGetPropertyValue(column, out var node) ? AsString(node, $"column '{column}' ({what})", row.Location) : null;

    /// <summary>A list from a list value or from JSON text holding a list; null for a missing, null or empty-text value.</summary>
    public static JsonArray? AsArray(JsonNode? node, string what, string location)
    {
        switch (node)
        {
            case null: return null;
            case JsonArray array: return array;
            case JsonValue value when value.TryGetValue<string>(out var text):
                if (string.IsNullOrWhiteSpace(text)) return null;
                try
                {
                    if (JsonNode.Parse(text) is JsonArray parsed) return parsed;
                }
                catch (JsonException ex)
                {
                    throw new DatasetException($"{what} holds text that is not valid JSON ({JsonArrayReader.Describe(ex)}); expected a list.", location, ex);
                }
                throw new DatasetException($"{what} holds text that is not a JSON list; expected a list.", location);
            default:
                throw new DatasetException($"{what} is {AKind(node)}, expected a list.", location);
        }
    }

    public static JsonArray RequiredArray(RawRow row, string column, string what, Func<string> missingHelp)
    {
        if (!row.Values.TryGetPropertyValue(column, out var node)) throw Missing(row, column, what, missingHelp);
        return AsArray(node, $"column '{column}' ({what})", row.Location)
            ?? throw new DatasetException($"column '{column}' ({what}) is empty; expected a list.", row.Location);
    }

    public static JsonArray? OptionalArray(RawRow row, string column, string what) =>
        row.Values.TryGetPropertyValue(column, out var node) ? AsArray(node, $"column '{column}' ({what})", row.Location) : null;

    /// <summary>A number, or a numeric string; null for a missing or null value.</summary>
    public static double? AsNumber(JsonNode? node, string what, string location)
    {
        if (node is null) return null;
        if (node is JsonValue value)
        {
            if (node.GetValueKind() == JsonValueKind.Number) return value.GetValue<double>();
            if (value.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)) return parsed;
        }
        throw new DatasetException($"{what} is {AKind(node)} ({Clip(node.ToJsonString())}), expected a number.", location);
    }

    /// <summary>An integer, or a whole-number string; anything else is an error naming the element.</summary>
    public static int AsInt(JsonNode? node, string what, string location)
    {
        if (node is JsonValue value)
        {
            if (node.GetValueKind() == JsonValueKind.Number)
            {
                if (value.TryGetValue<int>(out var i)) return i;
                if (value.TryGetValue<double>(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
            }
            else if (value.TryGetValue<string>(out var s) && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }
        }
        throw new DatasetException($"{what} is {(node is null ? "null" : Clip(node.ToJsonString()))}, expected an integer.", location);
    }

    public static DatasetException Missing(RawRow row, string column, string what, Func<string> help) => new(
        $"column '{column}' ({what}) not found. Columns found: {string.Join(", ", row.Columns)}. {help()}", row.Location);

    public static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
