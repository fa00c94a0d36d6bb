using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Sft.Web.Auth;

/// <summary>Browser sign-in: <c>GET /login</c> (a form), <c>POST /login</c> (an API key, or the configured
/// name and password, for a cookie), <c>POST /logout</c>. Forms carry an antiforgery token.</summary>
public static class LoginApi
{
    public static IEndpointRouteBuilder MapLoginApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", LoginPage).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/login", Login).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        app.MapPost("/logout", Logout).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    public static ContentHttpResult LoginPage(HttpContext http, IAntiforgery antiforgery, IOptions<AuthOptions> options,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "ReturnUrl")] string? returnUrl) =>
        Page(http, antiforgery, options.Value, SafeReturnUrl(returnUrl), error: null, StatusCodes.Status200OK);

    public static async Task<Results<RedirectHttpResult, ContentHttpResult, ProblemHttpResult>> Login(
        HttpContext http, IAntiforgery antiforgery, ApiKeyStore keys, IOptions<AuthOptions> options)
    {
        if (!await antiforgery.IsRequestValidAsync(http)) return StaleForm();
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var auth = options.Value;
        var returnUrl = SafeReturnUrl(form["return_url"]);
        var apiKey = form["api_key"].ToString().Trim();
        var username = form["username"].ToString();

        System.Security.Claims.ClaimsPrincipal? principal = null;
        if (apiKey.Length > 0)
        {
            if (await keys.ValidateAsync(apiKey, http.RequestAborted) is { } key)
                principal = ApiKeyPrincipal.ForKey(key, AuthPolicies.CookieScheme);
        }
        else if (username.Length > 0 && auth.Username is { Length: > 0 } && auth.Password is { Length: > 0 }
                 && SameSecret(username, auth.Username) & SameSecret(form["password"].ToString(), auth.Password))
            principal = ApiKeyPrincipal.ForUser(auth.Username, AuthPolicies.CookieScheme);

        if (principal == null)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), http.RequestAborted);   // slows down guessing
            var error = apiKey.Length > 0 ? "That API key is not valid (unknown or revoked)."
                : username.Length > 0 ? "Wrong name or password."
                : "Enter an API key" + (auth.Username != null ? ", or a name and password." : ".");
            return Page(http, antiforgery, auth, returnUrl, error, StatusCodes.Status401Unauthorized);
        }
        await http.SignInAsync(AuthPolicies.CookieScheme, principal);
        return TypedResults.Redirect(returnUrl);
    }

    public static async Task<Results<RedirectHttpResult, ProblemHttpResult>> Logout(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http)) return StaleForm();
        await http.SignOutAsync(AuthPolicies.CookieScheme);
        return TypedResults.Redirect("/login");
    }

    static ProblemHttpResult StaleForm() => TypedResults.Problem(
        statusCode: 400, title: "Invalid form",
        detail: "The form's antiforgery token is missing or expired; reload /login and submit it again.");

    /// <summary>Only local paths ("/jobs/1"), never another site ("//evil", "https://...").</summary>
    static string SafeReturnUrl(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) ? url : "/";

    static bool SameSecret(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    static ContentHttpResult Page(HttpContext http, IAntiforgery antiforgery, AuthOptions auth, string returnUrl, string? error, int status)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        var token = $"<input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken ?? "")}\">";
        var body = new StringBuilder();
        if (http.User.Identity?.IsAuthenticated == true)
        {
            body.Append($"<p>Signed in as <b>{E(http.User.Identity.Name ?? "")}</b>{(ApiKeyPrincipal.IsAdmin(http.User) ? " (admin)" : "")}.</p>")
                .Append("<p><a href=\"/\">Open the dashboard</a> · <a href=\"/api/docs\">API reference</a></p>")
                .Append($"<form method=\"post\" action=\"/logout\">{token}<button type=\"submit\">Log out</button></form>");
        }
        else
        {
            if (error != null) body.Append($"<p class=\"error\" role=\"alert\">{E(error)}</p>");
            body.Append($"<form method=\"post\" action=\"/login\">{token}<input type=\"hidden\" name=\"return_url\" value=\"{E(returnUrl)}\">")
                .Append("<label>API key <input name=\"api_key\" type=\"password\" autocomplete=\"current-password\" placeholder=\"sft_...\" autofocus></label>");
            if (auth.Username != null)
                body.Append("<p class=\"or\">or</p><label>Name <input name=\"username\" autocomplete=\"username\"></label>")
                    .Append("<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>");
            body.Append("<button type=\"submit\">Sign in</button></form>")
                .Append("<p class=\"hint\">No key yet? On the server: <code>Sft.Web create-api-key --name NAME</code></p>");
        }
        var html = $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Sign in · SFT Studio</title>
            <style>
            body{font-family:system-ui,sans-serif;background:#f4f5f7;display:flex;justify-content:center;padding-top:12vh;margin:0}
            main{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:22rem}
            h1{font-size:1.3rem;margin-top:0} label{display:block;margin:.8rem 0;font-size:.9rem}
            input{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.3rem;font-size:1rem}
            button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem} .error{color:#b00020} .hint,.or{color:#666;font-size:.85rem}
            </style></head>
            <body><main><h1>SFT Studio</h1>{{body}}</main></body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
