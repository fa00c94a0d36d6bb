using System.Text.RegularExpressions;

namespace Sft.Training.Config;

/// <summary>
/// Which linear layers get LoRA adapters, with PEFT semantics on Hugging Face module names: a list matches a
/// module whose name equals an entry or ends with "." + entry; a string is a regex that must match the whole
/// name. MindFormers names are mapped first (wq wk wv wo → q_proj k_proj v_proj o_proj, w1 → gate_proj,
/// w2 → down_proj, w3 → up_proj, attention → self_attn, feed_forward → mlp), in list entries and inside regexes.
/// </summary>
public sealed partial class TargetModules
{
    static readonly IReadOnlyDictionary<string, string> MindFormersToHf = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["wq"] = "q_proj", ["wk"] = "k_proj", ["wv"] = "v_proj", ["wo"] = "o_proj",
        ["w1"] = "gate_proj", ["w2"] = "down_proj", ["w3"] = "up_proj",
        ["attention"] = "self_attn", ["feed_forward"] = "mlp",
    };

    readonly Regex? _regex;

    /// <summary>The value as written in the config (a regex or a comma-joined list).</summary>
    public string Original { get; }

    /// <summary>The Hugging Face regex when configured as a string; null for a list.</summary>
    public string? Pattern { get; }

    /// <summary>The Hugging Face names when configured as a list; null for a regex.</summary>
    public IReadOnlyList<string>? Names { get; }

    TargetModules(string original, string? pattern, IReadOnlyList<string>? names)
    {
        Original = original;
        Pattern = pattern;
        Names = names;
        if (pattern is null) return;
        _ = new Regex(pattern, RegexOptions.CultureInvariant);   // throws ArgumentException naming the problem in the pattern as written
        _regex = new Regex($@"\A(?:{pattern})\z", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    /// <summary>A regex (MindFormers' <c>'.*wq|.*wk|.*wv|.*wo'</c>); throws <see cref="ArgumentException"/> if it does not compile.</summary>
    public static TargetModules FromPattern(string pattern) => new(pattern, MapPattern(pattern), null);

    public static TargetModules FromList(IEnumerable<string> names)
    {
        var list = names.ToList();
        return new(string.Join(", ", list), null, list.Select(MapName).ToList());
    }

    /// <summary>PEFT's default for Qwen2 and Llama.</summary>
    public static TargetModules Default => FromList(["q_proj", "v_proj"]);

    public bool Matches(string moduleName)
    {
        if (_regex is not null) return _regex.IsMatch(moduleName);
        foreach (var name in Names!)
            if (moduleName == name || moduleName.EndsWith("." + name, StringComparison.Ordinal)) return true;
        return false;
    }

    public IReadOnlyList<string> Select(IEnumerable<string> moduleNames) => moduleNames.Where(Matches).ToList();

    /// <summary>Maps a dotted module name or suffix segment by segment: <c>attention.wq</c> → <c>self_attn.q_proj</c>.</summary>
    public static string MapName(string name) =>
        string.Join('.', name.Split('.').Select(s => MindFormersToHf.TryGetValue(s, out var hf) ? hf : s));

    /// <summary>Rewrites MindFormers names that stand alone in a regex (not part of a longer identifier, not after a backslash).</summary>
    public static string MapPattern(string pattern) =>
        NamePattern().Replace(pattern, m => MindFormersToHf[m.Value]);

    public override string ToString() => Pattern ?? string.Join(", ", Names!);

    [GeneratedRegex(@"(?<![A-Za-z0-9_\\])(wq|wk|wv|wo|w1|w2|w3|attention|feed_forward)(?![A-Za-z0-9_])")]
    private static partial Regex NamePattern();
}
