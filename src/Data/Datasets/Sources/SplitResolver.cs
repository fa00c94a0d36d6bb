namespace Sft.Data.Datasets.Sources;

/// <summary>Which files make up each split, plus the files that were left out (and why they were not used).</summary>
public sealed record SplitAssignment(IReadOnlyDictionary<string, IReadOnlyList<string>> Splits, IReadOnlyList<string> Ignored)
{
    public IReadOnlyList<string> FilesOf(string split) =>
        Splits.TryGetValue(split, out var files) ? files
        : throw new DatasetException(
            $"the dataset has no split '{split}'; its splits: {(Splits.Count == 0 ? "none" : string.Join(", ", Splits.Keys))}. " +
            "Pick one of them, or name the split's files explicitly with data_files.");
}

/// <summary>
/// Assigns a dataset's files (relative, forward-slash paths) to splits the way Hugging Face does:
/// explicit <c>data_files</c> patterns per split, otherwise split keywords in file or folder names
/// (<c>train</c>/<c>training</c>, <c>validation</c>/<c>valid</c>/<c>val</c>/<c>dev</c>,
/// <c>test</c>/<c>testing</c>/<c>eval</c>/<c>evaluation</c>), otherwise every file is <c>train</c>.
/// Only data files count (json, jsonl, parquet, csv, tsv, gzip'ed text), of the most common kind.
/// </summary>
public static class SplitResolver
{
    public static readonly IReadOnlyDictionary<string, string[]> Keywords = new Dictionary<string, string[]>
    {
        ["train"] = ["train", "training"],
        ["validation"] = ["validation", "valid", "val", "dev"],
        ["test"] = ["test", "testing", "eval", "evaluation"],
    };

    private static readonly HashSet<string> MetadataFiles = new(StringComparer.OrdinalIgnoreCase)
    {
        "dataset_info.json", "dataset_infos.json", "dataset_dict.json", "state.json",
    };

    private static readonly char[] Separators = ['-', '_', '.', ' ', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

    public static SplitAssignment Assign(IEnumerable<string> files, IReadOnlyDictionary<string, IReadOnlyList<string>>? dataFiles = null)
    {
        var all = files.Select(f => f.Replace('\\', '/')).Distinct().Order(StringComparer.Ordinal).ToList();
        return dataFiles is { Count: > 0 } ? Explicit(all, dataFiles) : ByConvention(all);
    }

    /// <summary>Whether a path is a data file the loaders read (not hidden, not Hub metadata).</summary>
    public static bool IsDataFile(string path) =>
        !path.Split('/').Any(part => part.StartsWith('.'))
        && !MetadataFiles.Contains(Path.GetFileName(path))
        && DataFile.TryGetType(path, out _, out _);

    private static SplitAssignment Explicit(List<string> all, IReadOnlyDictionary<string, IReadOnlyList<string>> dataFiles)
    {
        var splits = new Dictionary<string, IReadOnlyList<string>>();
        var used = new HashSet<string>();
        foreach (var (split, patterns) in dataFiles)
        {
            var chosen = new List<string>();
            foreach (var pattern in patterns)
            {
                var normalized = pattern.Replace('\\', '/').TrimStart('.', '/');
                var regex = Glob.IsPattern(normalized) ? Glob.ToRegex(normalized) : null;
                var matches = regex is not null
                    ? all.Where(f => regex!.IsMatch(f)).ToList()
                    : all.Where(f => f == normalized).ToList();
                if (matches.Count == 0)
                    throw new DatasetException(
                        $"data_files pattern '{pattern}' of split '{split}' matches no file. Files found: {Sample(all)}.");
                chosen.AddRange(matches.Where(m => !chosen.Contains(m)));
            }
            splits[split] = chosen;
            used.UnionWith(chosen);
        }
        return new SplitAssignment(splits, all.Where(f => !used.Contains(f)).ToList());
    }

    private static SplitAssignment ByConvention(List<string> all)
    {
        var data = all.Where(IsDataFile).ToList();
        // One kind of file, like HF's module inference: the most common, parquet first on a tie.
        var kind = data.GroupBy(Kind).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).FirstOrDefault()?.Key;
        var chosen = data.Where(f => Kind(f) == kind).ToList();

        var splits = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var (split, _) in Keywords)
        {
            var matched = chosen.Where(f => SplitOf(f) == split).ToList();
            if (matched.Count > 0) splits[split] = matched;
        }
        if (splits.Count == 0 && chosen.Count > 0) splits["train"] = chosen;
        var used = splits.Values.SelectMany(v => v).ToHashSet();
        return new SplitAssignment(splits, all.Where(f => !used.Contains(f)).ToList());
    }

    /// <summary>The split a path's name implies: a keyword in the file name (between separators), else a folder named exactly like one.</summary>
    public static string? SplitOf(string path)
    {
        var parts = path.Split('/');
        var stem = parts[^1];
        int dot = stem.IndexOf('.');
        var words = (dot > 0 ? stem[..dot] : stem).ToLowerInvariant().Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        foreach (var (split, keywords) in Keywords)
            if (words.Any(keywords.Contains)) return split;
        for (int i = parts.Length - 2; i >= 0; i--)
            foreach (var (split, keywords) in Keywords)
                if (keywords.Contains(parts[i].ToLowerInvariant())) return split;
        return null;
    }

    private static int Kind(string path)
    {
        DataFile.TryGetType(path, out var type, out _);
        return type switch
        {
            DataFileType.Parquet => 0,
            DataFileType.Json or DataFileType.JsonLines => 1,
            _ => 2,
        };
    }

    private static string Sample(List<string> all) =>
        all.Count == 0 ? "none" : string.Join(", ", all.Take(20)) + (all.Count > 20 ? $", ... ({all.Count} in all)" : "");
}
