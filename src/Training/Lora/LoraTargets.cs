using System.Text.RegularExpressions;

namespace Sft.Training.Lora;

/// <summary>
/// Which linear layers get an adapter, with PEFT's rules: a list matches a module name equal to an
/// entry or ending with "." + entry; a single string is a regular expression that must match the
/// whole module name. MindFormers' module names (wq, wk, wv, wo, w1, w2, w3) are accepted and
/// mapped to the Hugging Face ones.
/// </summary>
public sealed class LoraTargets
{
    /// <summary>MindFormers → Hugging Face projection names (w1 = gate, w2 = down, w3 = up in MindFormers' LLaMA/Qwen).</summary>
    public static readonly IReadOnlyDictionary<string, string> MindFormersNames = new Dictionary<string, string>
    {
        ["wq"] = "q_proj", ["wk"] = "k_proj", ["wv"] = "v_proj", ["wo"] = "o_proj",
        ["w1"] = "gate_proj", ["w2"] = "down_proj", ["w3"] = "up_proj",
    };

    /// <summary>MindFormers' block names: <c>attention.wq</c> is <c>self_attn.q_proj</c>, <c>feed_forward.w1</c> is <c>mlp.gate_proj</c>.</summary>
    static readonly IReadOnlyDictionary<string, string> HfWords = new Dictionary<string, string>(MindFormersNames)
    {
        ["attention"] = "self_attn", ["feed_forward"] = "mlp",
    };

    static readonly Regex MindFormersWord = new(@"(?<!\\)\b(wq|wk|wv|wo|w1|w2|w3|attention|feed_forward)\b", RegexOptions.CultureInvariant);

    static string ToHfName(string name) => string.Join('.', name.Split('.').Select(part => HfWords.GetValueOrDefault(part, part)));

    readonly IReadOnlyList<string>? _names;
    readonly Regex? _regex;

    /// <summary>The form written to adapter_config.json: a list of names, or the regex string.</summary>
    public object PeftValue => (object?)_names ?? _pattern!;

    public LoraTargets(IReadOnlyList<string> names)
    {
        if (names.Count == 0) throw new ArgumentException("target_modules is empty: name at least one module (e.g. q_proj, v_proj).");
        _names = names.Select(ToHfName).Distinct().ToArray();
    }

    public LoraTargets(string pattern)
    {
        // Rename MindFormers names that stand as words, not escapes such as \w1.
        var mapped = MindFormersWord.Replace(pattern, m => HfWords[m.Value]);
        try { _regex = new Regex($"^(?:{mapped})$", RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new ArgumentException($"target_modules '{pattern}' is not a valid regular expression: {e.Message}"); }
        _pattern = mapped;
    }

    readonly string? _pattern;

    public string Describe() => _names is not null ? string.Join(", ", _names) : _pattern!;

    public bool Matches(string moduleName) => _names is not null
        ? _names.Any(n => moduleName == n || moduleName.EndsWith("." + n, StringComparison.Ordinal))
        : _regex!.IsMatch(moduleName);
}
