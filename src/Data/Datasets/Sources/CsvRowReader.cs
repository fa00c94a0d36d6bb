using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using CsvHelper;

namespace Sft.Data.Datasets.Sources;

/// <summary>
/// Streams a CSV (or TSV) file with a header row. Every cell is a string; columns that hold JSON
/// (a <c>history</c> or <c>messages</c> list) are parsed later by the format that needs them.
/// Rows are tagged with the line they start on (quoted cells may span lines).
/// </summary>
internal static class CsvRowReader
{
    public static async IAsyncEnumerable<RawRow> ReadAsync(Stream stream, string fileName, char separator, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var options = CsvReaderOptions.Default with
        {
            Separator = separator,
            HasHeader = true,
            TrackLineNumbers = true,
            TrimWhitespace = false,
            SkipEmptyLines = true,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
        };
        using var csv = CsvReader.Create(stream, options, false);
        string[] header;
        try
        {
            await csv.ReadHeaderAsync(ct);
            header = [.. csv.Headers];
        }
        catch (CsvFormatException ex)
        {
            throw Malformed(ex, fileName);
        }
        if (header.Length == 0)
            throw new DatasetException("the file is empty; it needs a header row naming the columns.", fileName);
        CheckHeader(header, fileName);

        while (true)
        {
            try
            {
                if (!await csv.ReadAsync(ct)) yield break;
            }
            catch (CsvFormatException ex)
            {
                throw Malformed(ex, fileName);
            }
            var location = $"{fileName} line {csv.LineNumber}";
            if (csv.FieldCount != header.Length)
                throw new DatasetException(
                    $"the row has {csv.FieldCount} cells but the header has {header.Length} ({string.Join(", ", header)}). " +
                    $"Quote cells that contain the separator '{Printable(separator)}' or line breaks.", location);
            var obj = new JsonObject();
            for (int i = 0; i < header.Length; i++) obj[header[i]] = JsonValue.Create(csv.GetString(i));
            yield return new RawRow(obj, location);
        }
    }

    private static DatasetException Malformed(CsvFormatException ex, string fileName) => new(
        $"malformed CSV: {ex.Message.TrimEnd('.')}. Quote cells that contain quotes, separators or line breaks, and double the quotes inside them (\"\").",
        ex.LineNumber > 0 ? $"{fileName} line {ex.LineNumber}" : fileName, ex);

    private static void CheckHeader(string[] header, string fileName)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(header[i]))
                throw new DatasetException($"header cell {i + 1} is empty; every column needs a name.", $"{fileName} line 1");
            if (!seen.Add(header[i]))
                throw new DatasetException($"the header names column '{header[i]}' twice; column names must be unique.", $"{fileName} line 1");
        }
    }

    private static string Printable(char c) => c == '\t' ? "\\t" : c.ToString();
}
