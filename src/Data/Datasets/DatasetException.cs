namespace Sft.Data.Datasets;

/// <summary>
/// Bad dataset input: a malformed line, a missing column, a wrong type, an empty reply.
/// The message starts with <see cref="Location"/> (file and line or row) when one is known and
/// says how to fix the problem.
/// </summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string message, string? location = null, Exception? inner = null)
        : base(location is null ? message : $"{location}: {message}", inner)
    {
        Location = location;
    }

    /// <summary>Where the problem is, e.g. <c>train.jsonl line 17</c>; null when it is not about one place.</summary>
    public string? Location { get; }
}
