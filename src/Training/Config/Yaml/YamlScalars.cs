using System.Globalization;
using System.Text.RegularExpressions;

namespace Sft.Training.Config.Yaml;

/// <summary>
/// How plain scalars are typed. The rules follow PyYAML (which MindFormers uses) so a config means the
/// same thing here as there, with one leniency: <c>1e-5</c> (no dot) is a number, where PyYAML makes it a string.
/// </summary>
public static partial class YamlScalars
{
    public const string StrTag = "tag:yaml.org,2002:str";
    public const string NullTag = "tag:yaml.org,2002:null";

    /// <summary>The standard tags a config may carry; any other tag (<c>!!python/object</c>, ...) is refused.</summary>
    public static readonly IReadOnlySet<string> StandardTags = new HashSet<string>(StringComparer.Ordinal)
    {
        StrTag, NullTag, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
    };

    public static bool IsNull(string text) => text is "" or "~" or "null" or "Null" or "NULL";

    public static bool TryBool(string text, out bool value)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON":
                value = true; return true;
            case "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF":
                value = false; return true;
            default:
                value = false; return false;
        }
    }

    public static bool TryInt(string text, out long value)
    {
        value = 0;
        if (!IntPattern().IsMatch(text)) return false;
        var digits = text.Replace("_", "", StringComparison.Ordinal);
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || digits.StartsWith("+0x", StringComparison.OrdinalIgnoreCase)
            || digits.StartsWith("-0x", StringComparison.OrdinalIgnoreCase))
        {
            var negative = digits[0] == '-';
            var hex = digits[(digits.IndexOf('x', StringComparison.OrdinalIgnoreCase) + 1)..];
            if (!long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)) return false;
            if (negative) value = -value;
            return true;
        }
        return long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Integers and decimals (<c>1</c>, <c>1.0e-6</c>, <c>1.e-8</c>, <c>.5</c>, <c>1e-5</c>) and <c>.inf</c>/<c>.nan</c>.</summary>
    public static bool TryDouble(string text, out double value)
    {
        value = 0;
        switch (text)
        {
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": value = double.PositiveInfinity; return true;
            case "-.inf" or "-.Inf" or "-.INF": value = double.NegativeInfinity; return true;
            case ".nan" or ".NaN" or ".NAN": value = double.NaN; return true;
        }
        if (TryInt(text, out var integer)) { value = integer; return true; }
        if (!FloatPattern().IsMatch(text)) return false;
        return double.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    [GeneratedRegex(@"^[-+]?(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
