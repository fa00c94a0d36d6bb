using System.Text.RegularExpressions;

namespace Sft.Web.Ui;

/// <summary>A piece of a highlighted YAML line: its text and a CSS class (key, string, number, bool, anchor, comment, plain).</summary>
public readonly record struct YamlToken(string Text, string Kind);

/// <summary>
/// Line-by-line YAML colouring for the config editor: keys, scalars by type, anchors/aliases and comments.
/// It only colours; the config loader is what reads the YAML.
/// </summary>
public static partial class YamlHighlighter
{
    public static IReadOnlyList<YamlToken> Line(string line)
    {
        var tokens = new List<YamlToken>();
        var body = line;
        var comment = CommentStart(line);
        if (comment >= 0) body = line[..comment];

        var m = KeyLine().Match(body);
        if (m.Success)
        {
            tokens.Add(new(m.Groups["indent"].Value, "plain"));
            tokens.Add(new(m.Groups["key"].Value, "key"));
            tokens.Add(new(":", "plain"));
            body = body[m.Length..];
        }
        else if (ListItem().Match(body) is { Success: true } item)
        {
            tokens.Add(new(item.Value, "plain"));
            body = body[item.Length..];
        }
        if (body.Length > 0) tokens.AddRange(Scalar(body));
        if (comment >= 0) tokens.Add(new(line[comment..], "comment"));
        return tokens;
    }

    static IEnumerable<YamlToken> Scalar(string text)
    {
        var lead = text.Length - text.TrimStart().Length;
        var trail = text.Length - text.TrimEnd().Length;
        var core = text.Trim();
        if (lead > 0) yield return new(text[..lead], "plain");
        if (core.Length > 0)
        {
            // An anchor or alias first (&seq_length 256, *seq_length), then the value after it.
            var anchor = Anchor().Match(core);
            if (anchor.Success)
            {
                yield return new(anchor.Value, "anchor");
                core = core[anchor.Length..];
            }
            if (core.Length > 0) yield return new(core, Kind(core.Trim()));
        }
        if (trail > 0) yield return new(text[^trail..], "plain");
    }

    static string Kind(string value) =>
        value.Length == 0 ? "plain"
        : value[0] is '"' or '\'' ? "string"
        : Number().IsMatch(value) ? "number"
        : Bool().IsMatch(value) ? "bool"
        : value[0] is '[' or '{' ? "plain"
        : "string";

    /// <summary>Where a comment starts (a '#' at the line start or after a space, outside quotes), or -1.</summary>
    static int CommentStart(string line)
    {
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; continue; }
            if (c is '"' or '\'') quote = c;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return i;
        }
        return -1;
    }

    [GeneratedRegex(@"^(?<indent>\s*(?:-\s+)?)(?<key>[^\s#:'""\[\]{}][^#:]*?|'[^']*'|""[^""]*"")\s*:(?=\s|$)")]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"^\s*-\s+")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"^[&*][^\s,\]}]+\s*")]
    private static partial Regex Anchor();

    [GeneratedRegex(@"^[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|\.inf|\.nan)$", RegexOptions.IgnoreCase)]
    private static partial Regex Number();

    [GeneratedRegex(@"^(true|false|yes|no|on|off|null|~)$", RegexOptions.IgnoreCase)]
    private static partial Regex Bool();
}
