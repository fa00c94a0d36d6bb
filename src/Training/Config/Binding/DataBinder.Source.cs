using Sft.Data.Datasets.Hub;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>The data_loader's path and data_files, resolved the way the data layer will open them.</summary>
public static partial class DataBinder
{
    /// <summary>Hugging Face builder names that read <c>data_files</c> (MindFormers: <c>path: json</c>).</summary>
    static readonly IReadOnlyList<string> Builders = ["json", "csv", "parquet", "text", "arrow"];

    static readonly IReadOnlyList<string> DataExtensions = [".json", ".jsonl", ".parquet", ".csv", ".tsv", ".txt", ".arrow"];

    /// <summary>
    /// Where the rows come from, as the data layer will open them: a local file or folder (absolute), a built-in
    /// dataset (<c>builtin:NAME</c>), or a Hub id. MindFormers' <c>path: json</c> + <c>data_files</c> becomes the file
    /// itself (one file) or their folder with data_files for the split.
    /// </summary>
    static (string Path, DatasetOrigin Origin, IReadOnlyDictionary<string, IReadOnlyList<string>>? Files)? Source(SectionReader loader, string split, BindContext ctx)
    {
        var path = loader.String("path");
        var keyPath = loader.KeyPath("path");
        var at = loader.PositionOf("path");
        var files = DataFiles(loader, split, ctx);
        if (string.IsNullOrWhiteSpace(path))
        {
            ctx.Issues.Error(keyPath, at, "no dataset: path is missing or empty.",
                "set path to a json/jsonl/parquet/csv file, a folder, a Hugging Face dataset id (owner/name) or builtin:NAME.");
            return null;
        }
        path = path.Trim();
        var filesKey = loader.KeyPath("data_files");
        var filesAt = loader.PositionOf("data_files");

        if (BindContext.IsBuiltin(path, out var builtin))
        {
            if (!BuiltinDatasets.TryGet(builtin, out _))
            {
                ctx.Issues.Error(keyPath, at, $"there is no built-in dataset '{builtin}'.",
                    $"use one of: {string.Join(", ", BuiltinDatasets.Names.Select(n => BindContext.BuiltinPrefix + n))}.");
                return null;
            }
            if (files is not null) ctx.Issues.Ignored(filesKey, loader.KeyPosition("data_files"), "a built-in dataset is one file.");
            return (path, DatasetOrigin.Builtin, null);
        }

        if (Builders.Contains(path))
        {
            if (files is null || files.Values.All(f => f.Count == 0))
            {
                ctx.Issues.Error(filesKey, loader.Position, $"path: {path} reads data_files, and there are none.",
                    "add data_files: /path/to/train." + (path == "text" ? "txt" : path) + ".");
                return null;
            }
            var full = files.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.Select(ctx.FullPath).ToList());
            if (ctx.CheckFiles)
                foreach (var f in full.Values.SelectMany(f => f)) PathChecks.FileExists(f, filesKey, filesAt, ctx.Issues, "data file");
            var all = full.Values.SelectMany(f => f).ToList();
            if (all.Count == 1 && full.Count == 1) return (all[0], DatasetOrigin.LocalFile, null);
            var folder = CommonFolder(all);
            return (folder, DatasetOrigin.LocalFolder,
                full.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).ToList()));
        }

        var local = ctx.FullPath(path);
        if (ctx.CheckFiles && File.Exists(local))
        {
            if (files is not null)
                ctx.Issues.Error(filesKey, filesAt, $"data_files needs path to be a folder or a Hub dataset, but '{local}' is a file.",
                    "point path at the file's folder, or remove data_files.");
            return (local, DatasetOrigin.LocalFile, null);
        }
        if (ctx.CheckFiles && Directory.Exists(local)) return (local, DatasetOrigin.LocalFolder, files);

        var looksLocal = DataExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase) || path.EndsWith(e + ".gz", StringComparison.OrdinalIgnoreCase))
                         || path.StartsWith('/') || path.StartsWith("./", StringComparison.Ordinal)
                         || path.StartsWith("../", StringComparison.Ordinal) || path.StartsWith('~') || path.Contains('\\');
        if (!looksLocal && HubIds.IsRepoId(path)) return (path, DatasetOrigin.Hub, files);
        if (!ctx.CheckFiles) return (local, DatasetExtensionLike(path) ? DatasetOrigin.LocalFile : DatasetOrigin.LocalFolder, files);
        ctx.Issues.Error(keyPath, at, looksLocal
                ? $"dataset file '{local}' does not exist."
                : $"'{path}' is neither an existing file or folder nor a Hugging Face dataset id (owner/name).",
            "fix the path (relative paths are relative to the config file), or use an id such as llm-wizard/alpaca-gpt4-data.");
        return null;
    }

    static bool DatasetExtensionLike(string path) => DataExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase) || path.EndsWith(e + ".gz", StringComparison.OrdinalIgnoreCase));

    /// <summary>data_files as a string, a list (files of <paramref name="split"/>) or a mapping split → file(s).</summary>
    static Dictionary<string, IReadOnlyList<string>>? DataFiles(SectionReader loader, string split, BindContext ctx)
    {
        var node = loader.Node("data_files");
        if (node is null) return null;
        var splitName = split.Split('[')[0];
        if (node is YamlMappingNode map)
        {
            var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            var reader = new SectionReader(map, loader.KeyPath("data_files"), ctx.Issues, loader.KeyPosition("data_files"));
            foreach (var (key, _) in map.Entries)
                if (reader.StringList(key.Value, allowSingle: true) is { } list) result[key.Value] = list;
            return result;
        }
        return loader.StringList("data_files", allowSingle: true) is { } files
            ? new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [splitName] = files }
            : null;
    }

    static string CommonFolder(IReadOnlyList<string> files)
    {
        var folder = Path.GetDirectoryName(files[0])!;
        while (!files.All(f => f.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            folder = Path.GetDirectoryName(folder)!;
        return folder;
    }
}
