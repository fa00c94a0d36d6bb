using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sft.Data.Datasets.Sources;

/// <summary>
/// Streams a JSON Lines file: one object per line, blank lines skipped, each row tagged with its line
/// number. Lines are parsed straight from UTF-8 bytes in a reused buffer (which grows for long lines).
/// </summary>
internal static class JsonLinesReader
{
    public static async IAsyncEnumerable<RawRow> ReadAsync(Stream stream, string fileName, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var buffer = new byte[1 << 16];
        int start = 0, end = 0;
        bool eof = false, bomChecked = false;
        long line = 0;
        while (true)
        {
            int newline = bomChecked ? Array.IndexOf(buffer, (byte)'\n', start, end - start) : -1;
            if (newline < 0)
            {
                if (eof)
                {
                    if (start < end && ParseLine(buffer, start, end - start, fileName, ++line) is { } last) yield return last;
                    yield break;
                }
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                int read = await stream.ReadAsync(buffer.AsMemory(end), ct);
                eof = read == 0;
                end += read;
                if (!bomChecked && (end >= 3 || eof))
                {
                    bomChecked = true;
                    if (end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
                }
                continue;
            }
            var row = ParseLine(buffer, start, newline - start, fileName, ++line);
            start = newline + 1;
            if (row is not null) yield return row;
        }
    }

    /// <summary>One line's row, or null for a blank line.</summary>
    private static RawRow? ParseLine(byte[] buffer, int offset, int length, string fileName, long line)
    {
        var bytes = buffer.AsSpan(offset, length).Trim(" \t\r"u8);
        if (bytes.IsEmpty) return null;
        var location = $"{fileName} line {line}";
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new DatasetException(
                $"malformed JSON at byte {ex.BytePositionInLine + 1}: {JsonArrayReader.Describe(ex)}. " +
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
