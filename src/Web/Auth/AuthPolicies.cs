namespace Sft.Web.Auth;

/// <summary>Names shared by the authentication handlers, the policies and the endpoints.</summary>
public static class AuthPolicies
{
    /// <summary>The policy scheme that forwards to <see cref="ApiKeyScheme"/> or the cookie.</summary>
    public const string Scheme = "sft";
    public const string ApiKeyScheme = "ApiKey";
    public const string CookieScheme = "Cookies";

    /// <summary>Requires an admin API key (or a cookie login made with one, or with the configured user).</summary>
    public const string Admin = "admin";

    public const string AdminClaim = "sft:admin";
    public const string KeyIdClaim = "sft:key_id";

    /// <summary>Requests that are answered with 401/403 rather than redirected to the login page.</summary>
    public static bool IsApiRequest(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs")
        || request.Path.StartsWithSegments("/openapi");
}
