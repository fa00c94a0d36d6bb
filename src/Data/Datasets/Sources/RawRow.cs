using System.Text.Json.Nodes;

namespace Sft.Data.Datasets.Sources;

/// <summary>One row as read from a file, before any format is applied: column name to JSON value
/// (CSV cells are strings, parquet values keep their types). <paramref name="Location"/> names the
/// file and line (text files) or row (parquet), e.g. <c>train.jsonl line 17</c>.</summary>
public sealed record RawRow(JsonObject Values, string Location)
{
    public IEnumerable<string> Columns => Values.Select(p => p.Key);
}
