using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Serialization;

namespace Sft.Data.Datasets.Sources;

/// <summary>
/// Streams a parquet file one row group at a time. Nested columns (lists, structs such as a
/// <c>messages</c> list of <c>{role, content}</c>) become JSON arrays and objects; every top-level
/// column is present in every row (null when the value is missing).
/// </summary>
internal static class ParquetRowReader
{
    public static async IAsyncEnumerable<RawRow> ReadAsync(Stream stream, string fileName, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var seekable = await EnsureSeekableAsync(stream, ct);
        int groups;
        string[] columns;
        try
        {
            await using var reader = await ParquetReader.CreateAsync(seekable, leaveStreamOpen: true, cancellationToken: ct);
            groups = reader.RowGroupCount;
            columns = reader.Schema.Fields.Select(f => f.Name).ToArray();
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or NotSupportedException or InvalidOperationException)
        {
            throw new DatasetException($"not a readable parquet file: {ex.Message}", fileName, ex);
        }

        long row = 0;
        for (int g = 0; g < groups; g++)
        {
            seekable.Position = 0;
            var result = await ParquetSerializer.DeserializeUntypedAsync(seekable, null, g, ct);
            foreach (var values in result.Data)
            {
                row++;
                var obj = new JsonObject();
                foreach (var column in columns)
                    obj[column] = values.TryGetValue(column, out var value) ? ToNode(value) : null;
                yield return new RawRow(obj, $"{fileName} row {row}");
            }
        }
    }

    /// <summary>Parquet needs random access; a forward-only stream is copied to memory first.</summary>
    private static async Task<Stream> EnsureSeekableAsync(Stream stream, CancellationToken ct)
    {
        if (stream.CanSeek) return stream;
        var copy = new MemoryStream();
        await using (stream) await stream.CopyToAsync(copy, ct);
        copy.Position = 0;
        return copy;
    }

    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        ReadOnlyMemory<char> m => JsonValue.Create(m.ToString()),
        bool b => JsonValue.Create(b),
        byte or sbyte or short or ushort or int or uint or long => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        ulong u => JsonValue.Create(u),
        float f => JsonValue.Create((double)f),
        double d => JsonValue.Create(d),
        decimal m => JsonValue.Create(m),
        DateTime t => JsonValue.Create(t.ToString("O", CultureInfo.InvariantCulture)),
        DateTimeOffset t => JsonValue.Create(t.ToString("O", CultureInfo.InvariantCulture)),
        TimeSpan t => JsonValue.Create(t.ToString("c", CultureInfo.InvariantCulture)),
        Guid id => JsonValue.Create(id.ToString()),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        IDictionary<string, object?> map => ToObject(map),
        IDictionary map => ToObject(map),
        IEnumerable list => ToArray(list),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    private static JsonObject ToObject(IDictionary<string, object?> map)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in map) obj[key] = ToNode(value);
        return obj;
    }

    private static JsonObject ToObject(IDictionary map)
    {
        var obj = new JsonObject();
        foreach (DictionaryEntry entry in map) obj[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? ""] = ToNode(entry.Value);
        return obj;
    }

    private static JsonArray ToArray(IEnumerable list)
    {
        var array = new JsonArray();
        foreach (var item in list) array.Add(ToNode(item));
        return array;
    }
}
