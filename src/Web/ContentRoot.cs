namespace Sft.Web;

/// <summary>
/// The host's content root is the repository root (where <c>appsettings.json</c> and <c>wwwroot/</c>
/// live) when running from a checkout, and the application folder when published, even when the publish folder
/// lies inside a checkout: only a published folder has Blazor's files under <c>wwwroot/_framework</c>, and taking the
/// repository root there served those files empty.
/// </summary>
public static class ContentRoot
{
    public static string Find()
    {
        var explicitRoot = Environment.GetEnvironmentVariable("SFT_CONTENT_ROOT");
        if (!string.IsNullOrEmpty(explicitRoot)) return Path.GetFullPath(explicitRoot);

        if (Directory.Exists(Path.Combine(AppContext.BaseDirectory, "wwwroot", "_framework"))) return AppContext.BaseDirectory;

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sft.Web.sln"))
                && File.Exists(Path.Combine(dir.FullName, "appsettings.json")))
                return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}
