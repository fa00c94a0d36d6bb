using System.IO.Compression;

namespace Sft.Data.Datasets.Sources;

/// <summary>The file layouts a dataset can come in.</summary>
public enum DataFileType { Json, JsonLines, Parquet, Csv, Tsv }

/// <summary>
/// One data file: a display name (used in error messages), its layout, whether it is gzip'ed, and a way
/// to open it. Local files, downloaded Hub files and the embedded demo datasets are all <c>DataFile</c>s.
/// </summary>
public sealed class DataFile
{
    private readonly Func<Stream> _open;

    private DataFile(string name, DataFileType type, bool gzip, Func<Stream> open, string? localPath)
    {
        Name = name;
        Type = type;
        Gzip = gzip;
        _open = open;
        LocalPath = localPath;
    }

    /// <summary>What errors call the file: a path relative to the dataset root, or the file name.</summary>
    public string Name { get; }
    public DataFileType Type { get; }
    public bool Gzip { get; }
    /// <summary>The file on disk, when there is one (null for embedded resources).</summary>
    public string? LocalPath { get; }

    /// <summary>A file on disk; its layout comes from the extension unless <paramref name="type"/> is given.</summary>
    public static DataFile Local(string path, string? name = null, DataFileType? type = null)
    {
        var display = name ?? Path.GetFileName(path);
        var (detected, gzip) = TypeOf(display, type);
        return new DataFile(display, detected, gzip, () => File.OpenRead(path), path);
    }

    /// <summary>A file read through a stream factory (embedded resources, tests).</summary>
    public static DataFile FromStream(string name, Func<Stream> open, DataFileType? type = null)
    {
        var (detected, gzip) = TypeOf(name, type);
        return new DataFile(name, detected, gzip, open, null);
    }

    /// <summary>Opens the file, decompressing gzip transparently.</summary>
    public Stream Open()
    {
        var raw = _open();
        return Gzip ? new GZipStream(raw, CompressionMode.Decompress) : raw;
    }

    /// <summary>The layout a file name implies (<c>.json</c>, <c>.jsonl</c>, <c>.parquet</c>, <c>.csv</c>,
    /// <c>.tsv</c>, each optionally <c>.gz</c>), or false for anything else.</summary>
    public static bool TryGetType(string fileName, out DataFileType type, out bool gzip)
    {
        var name = fileName.ToLowerInvariant();
        gzip = name.EndsWith(".gz", StringComparison.Ordinal);
        if (gzip) name = name[..^3];
        DataFileType? found = Path.GetExtension(name) switch
        {
            ".json" => DataFileType.Json,
            ".jsonl" or ".ndjson" => DataFileType.JsonLines,
            ".parquet" => DataFileType.Parquet,
            ".csv" => DataFileType.Csv,
            ".tsv" => DataFileType.Tsv,
            _ => null,
        };
        type = found ?? default;
        // Parquet compresses internally; a gzip'ed parquet file is not a layout anyone ships.
        return found is not null && !(gzip && found == DataFileType.Parquet);
    }

    private static (DataFileType Type, bool Gzip) TypeOf(string name, DataFileType? explicitType)
    {
        if (TryGetType(name, out var type, out var gzip)) return (explicitType ?? type, gzip);
        if (explicitType is { } given) return (given, name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase));
        throw new DatasetException(
            "unknown data file type; supported: .json, .jsonl, .parquet, .csv, .tsv (json/jsonl/csv/tsv may end in .gz). " +
            "Rename the file or name its type explicitly.", name);
    }

    public override string ToString() => Name;
}
