namespace Sft.Training.Config.Binding;

/// <summary>What every binder needs: the options, the issue list, and path resolution.</summary>
public sealed class BindContext(ConfigLoadOptions options, IssueCollector issues, string baseDirectory)
{
    public const string BuiltinPrefix = "builtin:";

    public ConfigLoadOptions Options { get; } = options;
    public IssueCollector Issues { get; } = issues;
    public string BaseDirectory { get; } = baseDirectory;
    public bool CheckFiles => Options.CheckFileSystem;

    /// <summary>An absolute path: <c>~/</c> expanded, relative paths taken from <see cref="BaseDirectory"/>.</summary>
    public string FullPath(string path)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
            path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "");
        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(BaseDirectory, path));
        return Path.TrimEndingDirectorySeparator(full);
    }

    public static bool IsBuiltin(string value, out string name)
    {
        name = value.StartsWith(BuiltinPrefix, StringComparison.Ordinal) ? value[BuiltinPrefix.Length..] : "";
        return name.Length > 0;
    }
}
