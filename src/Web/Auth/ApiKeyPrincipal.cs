using System.Globalization;
using System.Security.Claims;
using Sft.Data.Persistence;

namespace Sft.Web.Auth;

/// <summary>The claims of a caller: an API key (with its id, so a cookie made from it dies with the key) or the configured user.</summary>
public static class ApiKeyPrincipal
{
    public static ClaimsPrincipal ForKey(ApiKeyEntity key, string authenticationType)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, $"key:{key.Id}"),
            new(ClaimTypes.Name, key.Name),
            new(AuthPolicies.KeyIdClaim, key.Id.ToString(CultureInfo.InvariantCulture)),
        ];
        if (key.IsAdmin) claims.Add(new Claim(AuthPolicies.AdminClaim, "true"));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType));
    }

    public static ClaimsPrincipal ForUser(string username, string authenticationType) =>
        new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, $"user:{username}"),
            new Claim(ClaimTypes.Name, username),
            new Claim(AuthPolicies.AdminClaim, "true"),
        ], authenticationType));

    public static long? KeyId(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(AuthPolicies.KeyIdClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    public static bool IsAdmin(ClaimsPrincipal principal) => principal.HasClaim(AuthPolicies.AdminClaim, "true");
}
