using System.Text.RegularExpressions;

namespace Sft.Data.Datasets.Hub;

/// <summary>Checks for repository ids and repository paths before they reach a URL or the disk.</summary>
public static partial class HubIds
{
    /// <summary>Whether <paramref name="text"/> has the shape of a Hub dataset id: <c>name</c> or <c>org/name</c>.</summary>
    public static bool IsRepoId(string text) =>
        RepoId().IsMatch(text) && !text.Contains("--", StringComparison.Ordinal) && !text.Contains("..", StringComparison.Ordinal);

    public static string CheckedRepoId(string repoId) => IsRepoId(repoId) ? repoId
        : throw new HubException(HubErrorKind.NotFound,
            $"'{repoId}' is not a valid Hugging Face dataset id; write it as org/name (letters, digits, '-', '_', '.'), e.g. llm-wizard/alpaca-gpt4-data.");

    /// <summary>A repository-relative path with no empty, '.' or '..' segments (so it cannot leave the cache folder).</summary>
    public static string CheckedPath(string path)
    {
        var segments = path.Split('/');
        if (path.Length == 0 || path.Contains('\\') || segments.Any(s => s.Length == 0 || s == "." || s == ".."))
            throw new HubException(HubErrorKind.Server, $"'{path}' is not a safe repository path (empty, '.' or '..' segments, or backslashes).");
        return path;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][\w.\-]{0,95}(/[\w.\-]{1,96})?$")]
    private static partial Regex RepoId();
}
