using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Sft.Web.Auth;

public static class AuthExtensions
{
    /// <summary>
    /// API keys for scripts, a cookie for the browser, one policy scheme choosing between them, and a fallback
    /// policy that makes every endpoint need a signed-in caller unless it says <c>AllowAnonymous</c> (/health, /login).
    /// </summary>
    public static IServiceCollection AddSftAuth(this IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .Validate(o => o.BootstrapApiKey is not { Length: > 0 } key || ApiKeys.CheckFormat(key) == null,
                "Auth:BootstrapApiKey must start with 'sft_' followed by at least 24 printable characters " +
                "(e.g. sft_ and the output of 'openssl rand -hex 24').")
            .Validate(o => string.IsNullOrEmpty(o.Username) == string.IsNullOrEmpty(o.Password),
                "Auth:Username and Auth:Password are set together (or neither).")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ApiKeyStore>();
        services.AddProblemDetails();
        services.AddAntiforgery();

        services.AddAuthentication(AuthPolicies.Scheme)
            .AddPolicyScheme(AuthPolicies.Scheme, "API key or cookie", o =>
                o.ForwardDefaultSelector = ctx => ApiKeyAuthenticationHandler.HasToken(ctx.Request) ? AuthPolicies.ApiKeyScheme : AuthPolicies.CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AuthPolicies.ApiKeyScheme, null)
            .AddCookie(AuthPolicies.CookieScheme);
        services.AddOptions<CookieAuthenticationOptions>(AuthPolicies.CookieScheme)
            .Configure<IOptions<AuthOptions>>((cookie, auth) => ConfigureCookie(cookie, auth.Value));

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(AuthPolicies.Scheme).RequireAuthenticatedUser().Build())
            .AddPolicy(AuthPolicies.Admin, p => p.AddAuthenticationSchemes(AuthPolicies.Scheme)
                .RequireAuthenticatedUser().RequireClaim(AuthPolicies.AdminClaim, "true"));

        services.AddHostedService<ApiKeyBootstrapper>();
        return services;
    }

    static void ConfigureCookie(CookieAuthenticationOptions cookie, AuthOptions auth)
    {
        cookie.Cookie.Name = "sft_auth";
        cookie.Cookie.HttpOnly = true;
        cookie.Cookie.SameSite = SameSiteMode.Lax;
        cookie.LoginPath = "/login";
        cookie.LogoutPath = "/logout";
        cookie.ExpireTimeSpan = auth.CookieLifetime;
        cookie.SlidingExpiration = true;
        cookie.Events = new CookieAuthenticationEvents
        {
            // A login made with an API key ends when the key is revoked.
            OnValidatePrincipal = async ctx =>
            {
                if (ctx.Principal != null && ApiKeyPrincipal.KeyId(ctx.Principal) is { } keyId
                    && !await ctx.HttpContext.RequestServices.GetRequiredService<ApiKeyStore>().IsActiveAsync(keyId, ctx.HttpContext.RequestAborted))
                {
                    ctx.RejectPrincipal();
                    await ctx.HttpContext.SignOutAsync(AuthPolicies.CookieScheme);
                }
            },
            // API callers get 401/403 problem details; browsers go to the login page.
            OnRedirectToLogin = ctx => AuthPolicies.IsApiRequest(ctx.Request)
                ? WriteProblem(ctx.HttpContext, 401, "Unauthorized", ApiKeyAuthenticationHandler.MissingKeyMessage)
                : Redirect(ctx),
            OnRedirectToAccessDenied = ctx =>
                WriteProblem(ctx.HttpContext, 403, "Forbidden", "This needs an admin login (an admin API key or the configured user)."),
        };
    }

    static Task Redirect(RedirectContext<CookieAuthenticationOptions> ctx)
    {
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    static async Task WriteProblem(HttpContext http, int status, string title, string detail)
    {
        http.Response.StatusCode = status;
        if (status == 401) http.Response.Headers.WWWAuthenticate = "Bearer";
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
