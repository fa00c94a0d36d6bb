using Sft.Data.Datasets.Formats;

namespace Sft.Data.Datasets.Sources;

/// <summary>
/// What to load, in the words of Hugging Face <c>load_dataset</c>: <see cref="Path"/> is a local file, a
/// local folder, a built-in dataset name (<see cref="BuiltinDatasets.Names"/>) or a Hub dataset id
/// (<c>org/name</c>); <see cref="DataFiles"/> optionally names each split's files (globs relative to the
/// folder or repository); <see cref="Split"/> may carry a slice (<c>train[:90%]</c>).
/// </summary>
public sealed record DatasetSpec
{
    public required string Path { get; init; }

    /// <summary>Split name to file patterns; null or empty: split by file names (HF convention).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? DataFiles { get; init; }

    public string Split { get; init; } = "train";

    /// <summary>Hub branch, tag or commit; null means <c>main</c>.</summary>
    public string? Revision { get; init; }

    public DatasetFormat Format { get; init; } = DatasetFormat.Auto;

    public ColumnMapping Columns { get; init; } = ColumnMapping.Default;

    /// <summary>For a JSON file holding an object: the key of the list of rows.</summary>
    public string? Field { get; init; }

    /// <summary>Treat every file as this layout regardless of its extension.</summary>
    public DataFileType? FileType { get; init; }
}
