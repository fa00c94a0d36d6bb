namespace Sft.Web.Auth;

/// <summary>Authentication settings (section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>An admin API key to provision at start (e.g. <c>Auth__BootstrapApiKey</c>); it must look like a
    /// key this server issues: <c>sft_</c> followed by at least 24 characters.</summary>
    public string? BootstrapApiKey { get; set; }

    /// <summary>Optional browser login with a name and password instead of an API key (both must be set).</summary>
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>How long a browser login lasts (sliding).</summary>
    public TimeSpan CookieLifetime { get; set; } = TimeSpan.FromDays(7);
}
