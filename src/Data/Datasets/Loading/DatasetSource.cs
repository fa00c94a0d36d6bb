using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Loading;

/// <summary>Where a dataset's files are.</summary>
public enum DatasetOrigin { LocalFile, LocalFolder, Builtin, Hub }

/// <summary>
/// A resolved dataset: its splits and their files (relative names), the files no split uses, and for
/// Hub datasets the commit the listing came from. Nothing is downloaded until a split is opened.
/// </summary>
public sealed record DatasetSource(
    DatasetSpec Spec,
    DatasetOrigin Origin,
    SplitAssignment Splits,
    string? Commit,
    bool FromCache)
{
    public IReadOnlyList<string> SplitNames => Splits.Splits.Keys.ToList();
}
