using System.Text.RegularExpressions;

namespace Sft.Data.Datasets.Hub;

/// <summary>
/// The huggingface_hub cache layout, shared with Python tools on the same machine:
/// <c>{root}/datasets--{org}--{name}/blobs/{etag}</c> (file contents by etag),
/// <c>snapshots/{commit}/{path}</c> (a relative symlink to the blob, or a copy where links fail),
/// <c>refs/{revision}</c> (the commit a branch or tag pointed at), locks under <c>{root}/.locks</c>.
/// </summary>
public sealed partial class HubCache(string root)
{
    public string Root { get; } = root;

    public string RepoFolder(string repoId) => Path.Combine(Root, FolderName(repoId));

    public static string FolderName(string repoId) => "datasets--" + repoId.Replace("/", "--");

    public string BlobPath(string repoId, string etag) => Path.Combine(RepoFolder(repoId), "blobs", etag);

    public string LockPath(string repoId, string etag) => Path.Combine(Root, ".locks", FolderName(repoId), etag + ".lock");

    public string SnapshotFolder(string repoId, string commit) => Path.Combine(RepoFolder(repoId), "snapshots", commit);

    public string PointerPath(string repoId, string commit, string path) =>
        Path.Combine([SnapshotFolder(repoId, commit), .. HubIds.CheckedPath(path).Split('/')]);

    public static bool IsCommit(string revision) => CommitHash().IsMatch(revision);

    /// <summary>The commit a revision resolves to locally: itself for a commit hash, else <c>refs/{revision}</c>.</summary>
    public string? ReadRef(string repoId, string revision)
    {
        if (IsCommit(revision)) return revision;
        var file = RefPath(repoId, revision);
        return File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } commit ? commit : null;
    }

    public void WriteRef(string repoId, string revision, string commit)
    {
        if (revision == commit) return;
        var file = RefPath(repoId, revision);
        if (ReadRef(repoId, revision) == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, commit);
        File.Move(temp, file, overwrite: true);
    }

    /// <summary>The cached copy of a file at a revision, or null when the revision or file is not cached.</summary>
    public string? TryGetFile(string repoId, string path, string revision) =>
        ReadRef(repoId, revision) is { } commit && PointerPath(repoId, commit, path) is var pointer && File.Exists(pointer) ? pointer : null;

    /// <summary>The files of a cached snapshot (relative, forward slashes), or null when the snapshot is not cached.</summary>
    public IReadOnlyList<HubFile>? CachedFiles(string repoId, string commit)
    {
        var folder = SnapshotFolder(repoId, commit);
        if (!Directory.Exists(folder)) return null;
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(File.Exists)
            .Select(f => new HubFile(Path.GetRelativePath(folder, f).Replace('\\', '/'), new FileInfo(f).Length))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Points <paramref name="pointer"/> at <paramref name="blob"/>: a relative symlink, or a copy when links are not allowed.</summary>
    public static void Link(string blob, string pointer)
    {
        var folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        if (File.Exists(pointer)) return;
        if (new FileInfo(pointer).LinkTarget is not null) File.Delete(pointer); // a dangling link
        try
        {
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(folder, blob));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, pointer, overwrite: true);
        }
    }

    private string RefPath(string repoId, string revision) =>
        Path.Combine([RepoFolder(repoId), "refs", .. HubIds.CheckedPath(revision).Split('/')]);

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();
}
