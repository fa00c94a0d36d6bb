using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>
/// Typed reads of one YAML mapping that remember which keys the schema knows. Every read or
/// <see cref="Ignore"/> marks a key known; <see cref="Finish"/> reports the rest as unknown, suggesting the
/// nearest known key. Absent keys and explicit nulls read as "not set".
/// </summary>
public sealed class SectionReader
{
    readonly HashSet<string> _known = new(StringComparer.Ordinal);

    readonly SourcePosition? _keyAt;

    /// <param name="keyAt">where the key that holds this mapping is written (messages about the whole section point there)</param>
    public SectionReader(YamlMappingNode map, string path, IssueCollector issues, SourcePosition? keyAt = null)
    {
        Map = map;
        Path = path;
        Issues = issues;
        _keyAt = keyAt;
    }

    public YamlMappingNode Map { get; }
    public string Path { get; }
    public IssueCollector Issues { get; }
    /// <summary>The position of this section's key (or list item), else of its first entry.</summary>
    public SourcePosition Position => _keyAt ?? Map.Position;

    public string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>The value's position when set, else the key's, else this mapping's.</summary>
    public SourcePosition PositionOf(string key) =>
        Map[key] is { } v && !NodeValues.IsNull(v) ? v.Position : Map.KeyNode(key)?.Position ?? Position;

    /// <summary>The key's own position (where its name is written), else this mapping's.</summary>
    public SourcePosition KeyPosition(string key) => Map.KeyNode(key)?.Position ?? Position;

    /// <summary>The node of a set key (not null); marks the key known.</summary>
    public YamlNode? Node(string key)
    {
        _known.Add(key);
        var node = Map[key];
        return NodeValues.IsNull(node) ? null : node;
    }

    public bool Has(string key) => Node(key) is not null;

    public int? Int(string key, int? min = null, int? max = null, string? hint = null)
    {
        if (Node(key) is not { } node || !NodeValues.TryInt(node, KeyPath(key), Issues, out var v)) return null;
        return InRange(key, node, v, min, max, hint) ? v : null;
    }

    public int Int(string key, int fallback, int? min = null, int? max = null, string? hint = null) =>
        Int(key, min, max, hint) ?? fallback;

    public double? Double(string key, double? min = null, double? max = null, bool minExclusive = false,
        bool maxExclusive = false, string? hint = null)
    {
        if (Node(key) is not { } node || !NodeValues.TryDouble(node, KeyPath(key), Issues, out var v)) return null;
        var low = min is { } lo && (minExclusive ? v <= lo : v < lo);
        var high = max is { } hi && (maxExclusive ? v >= hi : v > hi);
        if (!low && !high) return v;
        var range = (min, max) switch
        {
            ({ } a, { } b) => $"in {(minExclusive ? "(" : "[")}{NodeValues.Format(a)}, {NodeValues.Format(b)}{(maxExclusive ? ")" : "]")}",
            ({ } a, null) => $"{(minExclusive ? ">" : "≥")} {NodeValues.Format(a)}",
            (null, { } b) => $"{(maxExclusive ? "<" : "≤")} {NodeValues.Format(b)}",
            _ => "",
        };
        Issues.Error(KeyPath(key), node.Position, $"must be {range}, got {NodeValues.Format(v)}.", hint ?? $"use a value {range}.");
        return null;
    }

    public double Double(string key, double fallback, double? min = null, double? max = null, bool minExclusive = false,
        bool maxExclusive = false, string? hint = null) =>
        Double(key, min, max, minExclusive, maxExclusive, hint) ?? fallback;

    public bool? Bool(string key) =>
        Node(key) is { } node && NodeValues.TryBool(node, KeyPath(key), Issues, out var v) ? v : null;

    public bool Bool(string key, bool fallback) => Bool(key) ?? fallback;

    public string? String(string key) =>
        Node(key) is { } node && NodeValues.TryString(node, KeyPath(key), Issues, out var v) ? v : null;

    /// <summary>One of <paramref name="choices"/> (case-insensitive), returned as spelt in the list.</summary>
    public string? Choice(string key, IReadOnlyList<string> choices, string? hint = null)
    {
        if (String(key) is not { } text) return null;
        var match = choices.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase));
        if (match is not null) return match;
        var near = KeySuggester.Nearest(text, choices);
        Issues.Error(KeyPath(key), PositionOf(key),
            $"'{text}' is not one of: {string.Join(", ", choices)}.{(near is null ? "" : $" Did you mean '{near}'?")}",
            hint ?? $"use one of: {string.Join(", ", choices)}.");
        return null;
    }

    public SectionReader? Section(string key)
    {
        if (Node(key) is not { } node) return null;
        if (node is YamlMappingNode map) return new SectionReader(map, KeyPath(key), Issues, KeyPosition(key));
        Issues.Error(KeyPath(key), node.Position, $"expected a mapping (indented 'name: value' lines), got {node.Describe()}.",
            $"write '{key}:' on its own line and the settings indented below it.");
        return null;
    }

    /// <summary>The items of a list, each with its path (<c>callbacks[1]</c>).</summary>
    public IReadOnlyList<(YamlNode Node, string Path)>? List(string key)
    {
        if (Node(key) is not { } node) return null;
        if (node is YamlSequenceNode seq) return seq.Items.Select((n, i) => (n, $"{KeyPath(key)}[{i}]")).ToList();
        Issues.Error(KeyPath(key), node.Position, $"expected a list, got {node.Describe()}.",
            $"write the items as '- item' lines under '{key}:' or as [a, b].");
        return null;
    }

    /// <summary>A list of strings; with <paramref name="allowSingle"/> a single string counts as a list of one.</summary>
    public IReadOnlyList<string>? StringList(string key, bool allowSingle = false)
    {
        if (Node(key) is not { } node) return null;
        if (allowSingle && node is YamlScalarNode single) return [single.Value];
        if (List(key) is not { } items) return null;
        var result = new List<string>();
        foreach (var (item, path) in items)
            if (NodeValues.TryString(item, path, Issues, out var s)) result.Add(s);
        return result.Count == items.Count ? result : null;
    }

    public IReadOnlyList<double>? DoubleList(string key, int count)
    {
        if (List(key) is not { } items) return null;
        if (items.Count != count)
        {
            Issues.Error(KeyPath(key), PositionOf(key), $"expected {count} numbers, got {items.Count}.", $"write [{string.Join(", ", Enumerable.Repeat("x", count))}].");
            return null;
        }
        var result = new List<double>();
        foreach (var (item, path) in items)
            if (NodeValues.TryDouble(item, path, Issues, out var d)) result.Add(d);
        return result.Count == count ? result : null;
    }

    /// <summary>Known keys that have no effect here: each one present is reported as ignored with <paramref name="reason"/>.</summary>
    public void Ignore(string reason, params string[] keys)
    {
        foreach (var key in keys)
        {
            _known.Add(key);
            if (Map.KeyNode(key) is { } k) Issues.Ignored(KeyPath(key), k.Position, reason);
        }
    }

    /// <summary>Marks keys known without reporting them (read elsewhere, e.g. an aliased copy).</summary>
    public void Accept(params string[] keys)
    {
        foreach (var key in keys) _known.Add(key);
    }

    /// <summary>Reports keys nobody read or ignored: unknown, with the nearest known key when one is close.</summary>
    public void Finish()
    {
        foreach (var (key, _) in Map.Entries)
        {
            if (_known.Contains(key.Value)) continue;
            var near = KeySuggester.Nearest(key.Value, _known);
            var where = Path.Length == 0 ? "at the top level" : $"in {Path}";
            if (near is not null)
                Issues.Error(KeyPath(key.Value), key.Position, $"unknown key '{key.Value}' {where}. Did you mean '{near}'?",
                    $"rename it to '{near}'.");
            else
                Issues.Error(KeyPath(key.Value), key.Position, $"unknown key '{key.Value}' {where}.",
                    $"remove it, or use one of: {string.Join(", ", _known.Order(StringComparer.Ordinal))}.");
        }
    }

    bool InRange(string key, YamlNode node, int v, int? min, int? max, string? hint)
    {
        if ((min is null || v >= min) && (max is null || v <= max)) return true;
        var range = (min, max) switch
        {
            ({ } a, { } b) => $"between {a} and {b}",
            ({ } a, null) => $"≥ {a}",
            (null, { } b) => $"≤ {b}",
            _ => "",
        };
        Issues.Error(KeyPath(key), node.Position, $"must be {range}, got {v}.", hint ?? $"use a value {range}.");
        return false;
    }
}
