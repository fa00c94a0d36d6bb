namespace Sft.Data.Datasets.Hub;

/// <summary>Why a Hub request failed.</summary>
public enum HubErrorKind
{
    /// <summary>The dataset, revision or file does not exist (or is private and no token was given).</summary>
    NotFound,
    /// <summary>The dataset is gated: its terms must be accepted and a token of that account sent.</summary>
    Gated,
    /// <summary>The token is missing or was rejected.</summary>
    Unauthorized,
    /// <summary>Offline mode (or no network) and the file is not in the cache.</summary>
    NotCached,
    /// <summary>The connection failed or kept dropping.</summary>
    Network,
    /// <summary>The downloaded bytes do not match the size or checksum the Hub announced.</summary>
    Integrity,
    /// <summary>The server answered with an error or something that is not the Hub's protocol.</summary>
    Server,
}

/// <summary>A Hub failure with a message that says what to do about it.</summary>
public sealed class HubException(HubErrorKind kind, string message, int? statusCode = null, Exception? inner = null)
    : Exception(message, inner)
{
    public HubErrorKind Kind { get; } = kind;
    public int? StatusCode { get; } = statusCode;
}
