namespace Sft.Data.Datasets.Hub;

/// <summary>
/// Where the Hub is and how to talk to it. <see cref="FromEnvironment"/> reads the variables
/// huggingface_hub reads: <c>HF_ENDPOINT</c>, <c>HF_HOME</c>, <c>HF_HUB_CACHE</c>, <c>HF_TOKEN</c> (else
/// the token file <c>$HF_HOME/token</c> or <c>HF_TOKEN_PATH</c>), <c>HF_HUB_OFFLINE</c>.
/// </summary>
public sealed record HubOptions
{
    public const string DefaultEndpoint = "https://huggingface.co";

    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>The hub cache folder (holding <c>datasets--org--name</c> folders).</summary>
    public required string CacheDir { get; init; }

    public string? Token { get; init; }

    /// <summary>Where the token would be read from, for error messages.</summary>
    public string? TokenPath { get; init; }

    /// <summary>Use the cache only; never touch the network.</summary>
    public bool Offline { get; init; }

    /// <summary>How many times an interrupted download is resumed before giving up.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>Wait before the first retry; later retries wait proportionally longer.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A download whose body stalls this long counts as interrupted (and is resumed).</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static HubOptions FromEnvironment(Func<string, string?>? getenv = null)
    {
        getenv ??= Environment.GetEnvironmentVariable;
        string? Env(string name) => getenv(name) is { Length: > 0 } value ? value : null;

        var userHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string Expand(string path) => path.StartsWith('~') ? userHome + path[1..] : path;

        var hfHome = Expand(Env("HF_HOME") ?? Path.Combine(Env("XDG_CACHE_HOME") ?? Path.Combine(userHome, ".cache"), "huggingface"));
        var cache = Expand(Env("HF_HUB_CACHE") ?? Env("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub"));
        var tokenPath = Expand(Env("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token"));
        var token = Env("HF_TOKEN") ?? Env("HUGGING_FACE_HUB_TOKEN") ?? ReadTokenFile(tokenPath);
        return new HubOptions
        {
            Endpoint = (Env("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            CacheDir = cache,
            Token = token,
            TokenPath = tokenPath,
            Offline = IsTrue(Env("HF_HUB_OFFLINE")),
        };
    }

    private static string? ReadTokenFile(string path) =>
        File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } token ? token : null;

    private static bool IsTrue(string? value) =>
        value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
