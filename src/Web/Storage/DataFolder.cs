namespace Sft.Web.Storage;

/// <summary>
/// The server's data folder and the only way to turn a stored or requested relative path into a file:
/// paths are resolved under the folder's real location, and a path that leaves it (<c>..</c>, an absolute
/// path, a symbolic link pointing outside) resolves to nothing.
/// </summary>
public sealed class DataFolder
{
    public DataFolder(string root)
    {
        Directory.CreateDirectory(root);
        Root = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
        RealRoot = RealPath(Root).TrimEnd(Path.DirectorySeparatorChar);
    }

    /// <summary>The data folder as configured, made absolute.</summary>
    public string Root { get; }

    /// <summary>The data folder with every symbolic link on its way resolved.</summary>
    public string RealRoot { get; }

    public string AppDatabasePath => Path.Combine(Root, "sft.db");
    public string HangfireDatabasePath => Path.Combine(Root, "hangfire.db");
    public string UploadsDir => Path.Combine(Root, "uploads");

    /// <summary>An absolute path for parts under the data folder (no checks: for paths the server builds itself).</summary>
    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The path relative to the data folder, with '/' separators, when <paramref name="path"/> lies under it;
    /// otherwise the absolute path unchanged.</summary>
    public string ToStored(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path, Root));
        return IsUnder(full, Root) ? Path.GetRelativePath(Root, full).Replace(Path.DirectorySeparatorChar, '/') : full;
    }

    /// <summary>
    /// Resolves a path stored by the server (relative to the data folder, or absolute) to an existing directory
    /// whose real location is inside the data folder; null otherwise.
    /// </summary>
    public DirectoryInfo? ResolveStoredDirectory(string storedPath)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(storedPath, Root));
        return Directory.Exists(full) && ContainsReal(full) ? new DirectoryInfo(full) : null;
    }

    /// <summary>
    /// Resolves a client-supplied relative path under <paramref name="baseDir"/> (itself inside the data folder)
    /// to an existing file whose real location is inside the data folder.
    /// </summary>
    /// <returns>the file, or null with <paramref name="error"/> set when the path is malformed (a client error),
    /// or null with no error when the file does not exist or escapes through a link (not found).</returns>
    public FileInfo? ResolveFile(DirectoryInfo baseDir, string relativePath, out string? error)
    {
        error = CheckRelative(relativePath);
        if (error != null) return null;
        var full = Path.GetFullPath(Path.Combine(baseDir.FullName, relativePath));
        if (!IsUnder(full, baseDir.FullName) || !File.Exists(full) || !ContainsReal(full)) return null;
        return new FileInfo(full);
    }

    /// <summary>Null when <paramref name="path"/> is a plain relative path (segments separated by '/', none of them
    /// empty, '.', or '..'); otherwise why it is not.</summary>
    public static string? CheckRelative(string path)
    {
        if (string.IsNullOrEmpty(path)) return "the path is empty";
        if (path.Contains('\\') || path.Contains('\0') || path.Contains(':'))
            return "the path may not contain '\\', ':' or NUL characters";
        if (path.StartsWith('/') || Path.IsPathRooted(path)) return "the path must be relative (no leading '/')";
        foreach (var segment in path.Split('/'))
            if (segment is "" or "." or "..") return $"the path may not contain empty, '.' or '..' segments ('{path}')";
        return null;
    }

    /// <summary>True when the real location of <paramref name="fullPath"/> (links resolved) is inside the data folder.</summary>
    public bool ContainsReal(string fullPath)
    {
        try { return IsUnder(RealPath(fullPath), RealRoot); }
        catch (IOException) { return false; }          // link loops, unreadable links
        catch (UnauthorizedAccessException) { return false; }
    }

    static bool IsUnder(string fullPath, string root) =>
        fullPath.Equals(root, StringComparison.Ordinal)
        || fullPath.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The path with every symbolic link along it resolved (as realpath(3), for existing prefixes).</summary>
    public static string RealPath(string path, int depth = 0)
    {
        if (depth > 32) throw new IOException($"Too many levels of symbolic links resolving '{path}'.");
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget != null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target != null) next = RealPath(target.FullName, depth + 1);
            }
            current = next;
        }
        return current;
    }
}
