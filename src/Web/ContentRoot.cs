namespace Sft.Web;

/// <summary>
/// The host's content root is the repository root (where <c>appsettings.json</c> and <c>wwwroot/</c>
/// live) when running from a checkout, and the application folder when published.
/// </summary>
public static class ContentRoot
{
    public static string Find()
    {
        var explicitRoot = Environment.GetEnvironmentVariable("SFT_CONTENT_ROOT");
        if (!string.IsNullOrEmpty(explicitRoot)) return Path.GetFullPath(explicitRoot);

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sft.Web.sln"))
                && File.Exists(Path.Combine(dir.FullName, "appsettings.json")))
                return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}
