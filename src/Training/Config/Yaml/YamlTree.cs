namespace Sft.Training.Config.Yaml;

/// <summary>Where a node came from: the config file (or <c>--set ...</c> override) and its 1-based line and column.</summary>
public readonly record struct SourcePosition(string Source, int Line, int Column)
{
    public override string ToString() => $"{Source}:{Line}:{Column}";
}

/// <summary>A node of the config tree. Aliases are expanded into copies, so every node has one parent.</summary>
public abstract class YamlNode(SourcePosition position)
{
    public SourcePosition Position { get; } = position;

    /// <summary>A deep copy with the same positions.</summary>
    public YamlNode Clone() => CloneAt(Position);

    /// <summary>A deep copy whose top node sits at <paramref name="position"/> (an alias: its children keep the anchor's positions).</summary>
    public abstract YamlNode CloneAt(SourcePosition position);

    /// <summary>How a value is named in messages: "a mapping", "a list", "'abc'".</summary>
    public abstract string Describe();
}

/// <summary>A scalar exactly as written; <see cref="Quoted"/> scalars are always strings.</summary>
public sealed class YamlScalarNode(string value, bool quoted, string? tag, SourcePosition position) : YamlNode(position)
{
    public string Value { get; } = value;

    /// <summary>Single/double quoted or block (| &gt;) scalars: never a number, bool or null.</summary>
    public bool Quoted { get; } = quoted;

    /// <summary>An explicit standard tag (<c>!!str</c>, <c>!!int</c>, ...) or null.</summary>
    public string? Tag { get; } = tag;

    public bool IsNull => !Quoted && (Tag is null or YamlScalars.NullTag) && YamlScalars.IsNull(Value);

    public override YamlNode CloneAt(SourcePosition position) => new YamlScalarNode(Value, Quoted, Tag, position);

    public override string Describe() => IsNull ? "null" : Quoted ? $"the quoted string \"{Value}\"" : $"'{Value}'";
}

/// <summary>A mapping with its keys in file order. Keys are unique (duplicates are rejected when reading).</summary>
public sealed class YamlMappingNode(SourcePosition position) : YamlNode(position)
{
    readonly List<KeyValuePair<YamlScalarNode, YamlNode>> _entries = [];

    public IReadOnlyList<KeyValuePair<YamlScalarNode, YamlNode>> Entries => _entries;

    public YamlNode? this[string key] => Find(key) is { } i ? _entries[i].Value : null;

    public YamlScalarNode? KeyNode(string key) => Find(key) is { } i ? _entries[i].Key : null;

    public bool ContainsKey(string key) => Find(key) is not null;

    /// <summary>Adds or replaces <paramref name="key"/>; a replaced entry keeps its place.</summary>
    public void Set(YamlScalarNode key, YamlNode value)
    {
        if (Find(key.Value) is { } i) _entries[i] = new(key, value);
        else _entries.Add(new(key, value));
    }

    int? Find(string key)
    {
        for (var i = 0; i < _entries.Count; i++)
            if (_entries[i].Key.Value == key) return i;
        return null;
    }

    public override YamlNode CloneAt(SourcePosition position)
    {
        var copy = new YamlMappingNode(position);
        foreach (var (k, v) in _entries) copy._entries.Add(new((YamlScalarNode)k.Clone(), v.Clone()));
        return copy;
    }

    public override string Describe() => "a mapping";
}

/// <summary>A sequence (block <c>- x</c> or flow <c>[x, y]</c>).</summary>
public sealed class YamlSequenceNode(SourcePosition position) : YamlNode(position)
{
    readonly List<YamlNode> _items = [];

    public IReadOnlyList<YamlNode> Items => _items;

    public void Add(YamlNode item) => _items.Add(item);

    public void Replace(int index, YamlNode item) => _items[index] = item;

    public override YamlNode CloneAt(SourcePosition position)
    {
        var copy = new YamlSequenceNode(position);
        foreach (var item in _items) copy._items.Add(item.Clone());
        return copy;
    }

    public override string Describe() => "a list";
}
