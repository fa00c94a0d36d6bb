using System.Security.Cryptography;
using System.Text;

namespace Sft.Web.Auth;

/// <summary>The format of API keys: <c>sft_</c> and 43 URL-safe characters (256 random bits). The server keeps
/// the SHA-256 of a key and its first characters (to recognise it in lists), never the key.</summary>
public static class ApiKeys
{
    public const string Marker = "sft_";
    public const int PrefixLength = 12;
    const int MinSecretLength = 24;

    public static string Generate() => Marker + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string PrefixOf(string key) => key.Length <= PrefixLength ? key : key[..PrefixLength];

    /// <summary>Null when <paramref name="key"/> has the shape of a key; otherwise what is wrong with it.</summary>
    public static string? CheckFormat(string key)
    {
        if (!key.StartsWith(Marker, StringComparison.Ordinal)) return $"an API key starts with '{Marker}'";
        if (key.Length - Marker.Length < MinSecretLength) return $"an API key has at least {MinSecretLength} characters after '{Marker}'";
        foreach (var c in key)
            if (c <= ' ' || c > '~') return "an API key has printable ASCII characters only";
        return null;
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
