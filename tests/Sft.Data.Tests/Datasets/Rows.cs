using System.Text.Json.Nodes;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Tests.Datasets;

internal static class Rows
{
    /// <summary>A raw row from JSON text, located at "test.jsonl line 7".</summary>
    public static RawRow Of(string json) => new(JsonNode.Parse(json)!.AsObject(), "test.jsonl line 7");

    /// <summary>All rows of a data file.</summary>
    public static async Task<List<RawRow>> ReadAll(DataFile file, string? field = null)
    {
        var rows = new List<RawRow>();
        await foreach (var row in DataFileReader.ReadAsync(file, field)) rows.Add(row);
        return rows;
    }
}
