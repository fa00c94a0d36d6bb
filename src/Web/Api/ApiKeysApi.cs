using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Sft.Web.Api.Models;
using Sft.Web.Auth;

namespace Sft.Web.Api;

/// <summary>API key management (admins): list, create (the key is shown once), revoke.</summary>
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/v1/api-keys").WithTags("API keys").RequireAuthorization(AuthPolicies.Admin);
        keys.MapGet("/", ListApiKeys).WithName(nameof(ListApiKeys)).WithSummary("Keys (never the keys themselves: name, prefix, use).");
        keys.MapPost("/", CreateApiKey).WithName(nameof(CreateApiKey)).WithSummary("Create a key; the response holds it, once.");
        keys.MapDelete("/{id:long}", RevokeApiKey).WithName(nameof(RevokeApiKey)).WithSummary("Revoke a key.");
        return app;
    }

    public static async Task<Ok<ListDto<ApiKeyDto>>> ListApiKeys(
        ApiKeyStore store, [FromQuery(Name = "include_revoked")] bool? includeRevoked, CancellationToken ct)
    {
        var keys = await store.ListAsync(includeRevoked ?? false, ct);
        return TypedResults.Ok(new ListDto<ApiKeyDto>(keys.Select(ApiKeyDto.From).ToList(), false));
    }

    public static async Task<Results<Created<CreatedApiKeyDto>, ProblemHttpResult>> CreateApiKey(
        ApiKeyStore store, CreateApiKeyRequest request, CancellationToken ct)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100 || name.Any(char.IsControl))
            return ApiProblems.Invalid("name", "name is required: 1 to 100 printable characters that say who uses the key.");
        var (key, plaintext) = await store.CreateAsync(name, request.IsAdmin, ct);
        return TypedResults.Created($"/api/v1/api-keys/{key.Id}",
            new CreatedApiKeyDto(key.Id, key.Name, key.Prefix, key.IsAdmin, key.CreatedAt.ToUnixTimeSeconds(), plaintext));
    }

    public static async Task<Results<Ok<ApiKeyDto>, ProblemHttpResult>> RevokeApiKey(ApiKeyStore store, long id, CancellationToken ct)
    {
        var keys = await store.ListAsync(includeRevoked: true, ct);
        var key = keys.FirstOrDefault(k => k.Id == id);
        if (key == null) return ApiProblems.NotFound("API key", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (key is { IsAdmin: true, RevokedAt: null } && keys.Count(k => k.IsAdmin && k.RevokedAt == null) == 1)
            return ApiProblems.Problem(StatusCodes.Status409Conflict, "Conflict",
                "This is the last active admin key; create another admin key first, or nobody could manage keys.", "id", "last_admin_key");
        var revoked = await store.RevokeAsync(id, ct);
        return TypedResults.Ok(ApiKeyDto.From(revoked!));
    }
}
