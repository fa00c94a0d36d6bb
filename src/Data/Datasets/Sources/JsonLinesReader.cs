using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sft.Data.Datasets.Sources;

/// <summary>Streams a JSON Lines file: one object per line, blank lines skipped, each row tagged with its line number.</summary>
internal static class JsonLinesReader
{
    public static async IAsyncEnumerable<RawRow> ReadAsync(Stream stream, string fileName, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var text = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        long lineNumber = 0;
        while (await text.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return Parse(line, $"{fileName} line {lineNumber}");
        }
    }

    internal static RawRow Parse(string line, string location)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new DatasetException(
                $"malformed JSON at character {ex.BytePositionInLine + 1}: {JsonArrayReader.Describe(ex)}. " +
                "Each line must be one complete JSON object; fix the quotes, commas or brackets there.", location, ex);
        }
        if (node is not JsonObject obj)
        {
            var kind = node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();
            throw new DatasetException($"the line holds a JSON {kind}, expected an object with one key per column.", location);
        }
        return new RawRow(obj, location);
    }
}
