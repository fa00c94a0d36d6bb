using Sft.Data.Datasets.Hub;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Loading;

/// <summary>
/// Resolves a <see cref="DatasetSpec"/> and opens one of its splits. <see cref="DatasetSpec.Path"/> is
/// tried as a local file, a local folder, a built-in dataset name, then a Hub dataset id (downloaded
/// through <see cref="HubClient"/> into the shared cache). Without a client the loader makes one from
/// the <c>HF_*</c> environment variables when a Hub dataset is asked for.
/// </summary>
public sealed class DatasetLoader(HubClient? hub = null)
{
    /// <summary>Lists the dataset's splits and files (a Hub dataset's listing comes from the Hub, or the cache offline).</summary>
    public async Task<DatasetSource> ResolveAsync(DatasetSpec spec, CancellationToken ct = default)
    {
        var path = spec.Path.Trim();
        if (path.Length == 0) throw new DatasetException("the dataset path is empty; name a file, a folder, a built-in dataset or a Hub dataset id.");

        if (File.Exists(path))
        {
            if (spec.DataFiles is { Count: > 0 })
                throw new DatasetException($"data_files needs the dataset path to be a folder or a Hub dataset, but '{path}' is a file; point the path at its folder.");
            var name = Path.GetFileName(path);
            return new DatasetSource(spec, DatasetOrigin.LocalFile,
                new SplitAssignment(new Dictionary<string, IReadOnlyList<string>> { ["train"] = [name] }, []), null, false);
        }
        if (Directory.Exists(path))
        {
            var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(path, f).Replace('\\', '/'));
            return new DatasetSource(spec, DatasetOrigin.LocalFolder, Assign(files, spec, path), null, false);
        }
        if (BuiltinDatasets.TryGet(path, out var builtin))
        {
            return new DatasetSource(spec, DatasetOrigin.Builtin,
                new SplitAssignment(new Dictionary<string, IReadOnlyList<string>> { ["train"] = [builtin.Name] }, []), null, false);
        }
        if (HubIds.IsRepoId(path))
        {
            var info = await WithHub(client => client.GetDatasetInfoAsync(path, spec.Revision, ct), path);
            return new DatasetSource(spec, DatasetOrigin.Hub, Assign(info.Files.Select(f => f.Path), spec, path), info.Sha, info.FromCache);
        }
        throw new DatasetException(
            $"dataset '{path}' is not a local file or folder, a built-in dataset ({string.Join(", ", BuiltinDatasets.Names)}) or a Hugging Face dataset id (org/name). Check the path.");
    }

    /// <summary>
    /// Opens the split the spec names (with its slice, if any). Hub files of that split are downloaded
    /// (or taken from the cache) first, reporting bytes through <paramref name="progress"/>.
    /// </summary>
    public async Task<DatasetSplit> LoadSplitAsync(DatasetSpec spec, IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        var (splitName, slice) = SplitSlice.Parse(spec.Split);
        var source = await ResolveAsync(spec, ct);
        var names = source.Splits.FilesOf(splitName);
        if (names.Count == 0) throw new DatasetException($"split '{splitName}' of dataset '{spec.Path}' has no files.");

        var path = spec.Path.Trim();
        var files = new List<DataFile>(names.Count);
        switch (source.Origin)
        {
            case DatasetOrigin.LocalFile:
                files.Add(DataFile.Local(path, type: spec.FileType));
                break;
            case DatasetOrigin.LocalFolder:
                files.AddRange(names.Select(n => DataFile.Local(Path.Combine(path, n), n, spec.FileType)));
                break;
            case DatasetOrigin.Builtin:
                BuiltinDatasets.TryGet(path, out var builtin);
                files.Add(builtin);
                break;
            case DatasetOrigin.Hub:
                // Download at the commit the listing came from, so all files belong to one snapshot.
                var revision = source.Commit ?? spec.Revision;
                foreach (var name in names)
                {
                    var local = await WithHub(client => client.DownloadFileAsync(path, name, revision, progress, ct), path);
                    files.Add(DataFile.Local(local, name, spec.FileType));
                }
                break;
        }
        return new DatasetSplit(splitName, slice, files, spec, source);
    }

    private static SplitAssignment Assign(IEnumerable<string> files, DatasetSpec spec, string where)
    {
        var assignment = SplitResolver.Assign(files, spec.DataFiles);
        if (assignment.Splits.Count == 0)
            throw new DatasetException(
                $"dataset '{where}' has no data files (json, jsonl, parquet, csv, tsv, optionally .gz). Files found: " +
                $"{(assignment.Ignored.Count == 0 ? "none" : string.Join(", ", assignment.Ignored.Take(20)))}.");
        return assignment;
    }

    private async Task<T> WithHub<T>(Func<HubClient, Task<T>> call, string path)
    {
        var client = hub ?? HubClient.FromEnvironment();
        try
        {
            return await call(client);
        }
        catch (HubException ex) when (ex.Kind == HubErrorKind.NotFound && ex.Message.StartsWith("dataset '", StringComparison.Ordinal))
        {
            throw new HubException(ex.Kind, ex.Message + $" No local file or folder '{path}' exists either, and it is not a built-in dataset ({string.Join(", ", BuiltinDatasets.Names)}).", ex.StatusCode, ex);
        }
        finally
        {
            if (hub is null) client.Dispose();
        }
    }
}
