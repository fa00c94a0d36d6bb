using System.Text.Json.Serialization;
using Sft.Data.Persistence;

namespace Sft.Web.Api.Models;

/// <summary>An API key as listed: never the key itself, only its first characters.</summary>
public sealed record ApiKeyDto(long Id, string Name, string Prefix, bool IsAdmin, long CreatedAt, long? LastUsedAt, long? RevokedAt)
{
    [JsonPropertyOrder(-1)]
    public string Object => "api_key";

    public static ApiKeyDto From(ApiKeyEntity k) => new(k.Id, k.Name, k.Prefix, k.IsAdmin,
        k.CreatedAt.ToUnixTimeSeconds(), k.LastUsedAt?.ToUnixTimeSeconds(), k.RevokedAt?.ToUnixTimeSeconds());
}

/// <summary>A key just created: the only time <see cref="Key"/> is shown.</summary>
public sealed record CreatedApiKeyDto(long Id, string Name, string Prefix, bool IsAdmin, long CreatedAt, string Key)
{
    [JsonPropertyOrder(-1)]
    public string Object => "api_key";
}

/// <summary>The body of <c>POST /api/v1/api-keys</c>.</summary>
public sealed record CreateApiKeyRequest(string? Name, bool IsAdmin = false);
