using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Sft.Web.Auth;

/// <summary>
/// <c>Authorization: Bearer sft_...</c>. On SignalR paths the key may also come as <c>access_token</c> in the
/// query (browsers cannot set headers on WebSockets). Failures answer 401 problem details that say what to send.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore store, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string MissingKeyMessage =
        "Send an API key as 'Authorization: Bearer sft_...' (an admin creates one with POST /api/v1/api-keys, " +
        "or on the server: Sft.Web create-api-key --name NAME), or log in at /login.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken(Request, out var malformed);
        if (malformed != null) return AuthenticateResult.Fail(malformed);
        if (token == null) return AuthenticateResult.NoResult();
        var key = await store.ValidateAsync(token, Context.RequestAborted);
        if (key == null) return AuthenticateResult.Fail("The API key is not valid: it is unknown or was revoked.");
        var principal = ApiKeyPrincipal.ForKey(key, Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    /// <summary>The bearer token of the request, or null; <paramref name="malformed"/> says why an Authorization header is unusable.</summary>
    public static string? ReadToken(HttpRequest request, out string? malformed)
    {
        malformed = null;
        var header = request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            const string bearer = "Bearer ";
            if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) || header.Length == bearer.Length)
            {
                malformed = "The Authorization header must be 'Bearer sft_...'.";
                return null;
            }
            return header[bearer.Length..].Trim();
        }
        if (request.Path.StartsWithSegments("/hubs") && request.Query.TryGetValue("access_token", out var query) && query.Count > 0)
            return query[0];
        return null;
    }

    public static bool HasToken(HttpRequest request) =>
        request.Headers.Authorization.Count > 0
        || (request.Path.StartsWithSegments("/hubs") && request.Query.ContainsKey("access_token"));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 401, Title = "Unauthorized", Detail = result.Failure?.Message ?? MissingKeyMessage },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 403, Title = "Forbidden", Detail = "This needs an admin API key." },
        });
    }
}
