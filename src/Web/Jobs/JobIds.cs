using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Sft.Web.Jobs;

/// <summary>Job ids as the API shows them: <c>ftjob-</c> and 24 lowercase hex digits (96 random bits).</summary>
public static partial class JobIds
{
    public const string Prefix = "ftjob-";

    public static string New() => Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>Null when <paramref name="id"/> has the shape of a job id; otherwise what is wrong with it.</summary>
    public static string? Check(string id) => Shape().IsMatch(id) ? null
        : $"'{Shorten(id)}' is not a job id; job ids look like {Prefix}0123456789abcdef01234567 ({Prefix} and 24 hex digits).";

    static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";

    [GeneratedRegex("^ftjob-[0-9a-f]{24}$")]
    private static partial Regex Shape();
}
