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

    readonly IReadOnlyList<string>? _names;
    readonly Regex? _regex;

    /// <summary>The form written to adapter_config.json: a list of names, or the regex string.</summary>
    public object PeftValue => (object?)_names ?? _pattern!;

    public LoraTargets(IReadOnlyList<string> names)
    {
        if (names.Count == 0) throw new ArgumentException("target_modules is empty: name at least one module (e.g. q_proj, v_proj).");
        _names = names.Select(n => MindFormersNames.TryGetValue(n, out var hf) ? hf : n).Distinct().ToArray();
    }

    public LoraTargets(string pattern)
    {
        var mapped = Regex.Replace(pattern, @"\b(wq|wk|wv|wo|w1|w2|w3)\b", m => MindFormersNames[m.Value]);
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
