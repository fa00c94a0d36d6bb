using System.Text;
using System.Text.Json;

namespace Sft.Data.Datasets.Sources;

/// <summary>Reads the rows of any <see cref="DataFile"/>, choosing the reader from its layout.</summary>
public static class DataFileReader
{
    /// <summary>
    /// Streams the rows of <paramref name="file"/>. For <c>.json</c> files: a top-level list, an object
    /// with the list under <paramref name="field"/> (or its first list), or, like Hugging Face's json
    /// loader, JSON Lines when the first line is a complete object and no field is named.
    /// </summary>
    public static async IAsyncEnumerable<RawRow> ReadAsync(DataFile file, string? field = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var type = file.Type;
        if (type == DataFileType.Json && field is null && await LooksLikeJsonLinesAsync(file, ct)) type = DataFileType.JsonLines;

        await using var stream = file.Open();
        var rows = type switch
        {
            DataFileType.Json => JsonArrayReader.ReadAsync(stream, file.Name, field, ct: ct),
            DataFileType.JsonLines => JsonLinesReader.ReadAsync(stream, file.Name, ct),
            DataFileType.Parquet => ParquetRowReader.ReadAsync(stream, file.Name, ct),
            DataFileType.Csv => CsvRowReader.ReadAsync(stream, file.Name, ',', ct),
            DataFileType.Tsv => CsvRowReader.ReadAsync(stream, file.Name, '\t', ct),
            _ => throw new DatasetException($"unsupported data file type {type}.", file.Name),
        };
        await foreach (var row in rows.WithCancellation(ct)) yield return row;
    }

    /// <summary>True when the file starts with <c>{</c> and its first line is one complete JSON value.</summary>
    private static async Task<bool> LooksLikeJsonLinesAsync(DataFile file, CancellationToken ct)
    {
        const int limit = 1 << 20;
        await using var stream = file.Open();
        var buffer = new byte[limit];
        int length = 0, read;
        while (length < limit && (read = await stream.ReadAsync(buffer.AsMemory(length), ct)) > 0)
        {
            length += read;
            if (Array.IndexOf(buffer, (byte)'\n', 0, length) >= 0) break;
        }
        var span = buffer.AsSpan(0, length);
        if (span.StartsWith(Encoding.UTF8.Preamble)) span = span[3..];
        int newline = span.IndexOf((byte)'\n');
        var firstLine = (newline >= 0 ? span[..newline] : span).Trim(" \t\r"u8);
        if (firstLine.IsEmpty || firstLine[0] != (byte)'{') return false;
        if (newline < 0 && length == limit) return false;
        try
        {
            var reader = new Utf8JsonReader(firstLine, isFinalBlock: true, default);
            return reader.Read() && reader.TrySkip() && reader.BytesConsumed == firstLine.Length;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
