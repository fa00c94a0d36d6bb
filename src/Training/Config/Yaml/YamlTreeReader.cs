using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sft.Training.Config.Yaml;

/// <summary>The tree of one YAML document, or the errors that stopped reading it.</summary>
public sealed record YamlReadResult(YamlNode? Root, IReadOnlyList<ConfigIssue> Errors);

/// <summary>
/// Reads one YAML document into a <see cref="YamlNode"/> tree from YamlDotNet's parser events, keeping
/// positions, expanding aliases into copies (counted against <see cref="YamlLimits.MaxNodes"/>), applying
/// merge keys (<c>&lt;&lt;: *base</c>), and refusing duplicate keys, non-standard tags and oversized input.
/// </summary>
public sealed class YamlTreeReader
{
    readonly string _source;
    readonly YamlLimits _limits;
    readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
    readonly List<ConfigIssue> _errors = [];
    int _nodes;

    YamlTreeReader(string source, YamlLimits limits)
    {
        _source = source;
        _limits = limits;
    }

    public static YamlReadResult Read(string text, string source, YamlLimits? limits = null)
    {
        var reader = new YamlTreeReader(source, limits ?? YamlLimits.Default);
        return reader.ReadDocument(text);
    }

    YamlReadResult ReadDocument(string text)
    {
        if (text.Length > _limits.MaxChars)
            return Fail(new SourcePosition(_source, 1, 1),
                $"the document is {text.Length:N0} characters; the limit is {_limits.MaxChars:N0}.",
                "a training config is a few kilobytes: remove pasted data from it.");

        var parser = new Parser(new StringReader(text));
        var last = new SourcePosition(_source, 1, 1);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
                return Fail(last, "the config is empty.", "start from one of the example configs.");
            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, 1);
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
                return Fail(Pos(parser.Current!.Start), "more than one YAML document (a second '---').",
                    "keep one document per config file.");
            return new YamlReadResult(_errors.Count == 0 ? root : null, _errors);
        }
        catch (LimitExceeded)
        {
            return new YamlReadResult(null, _errors);
        }
        catch (YamlException e)
        {
            return Fail(Pos(e.Start), $"YAML syntax error: {Clean(e.Message)}", "check indentation, colons and quotes around this place.");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet reports some malformed input (unclosed flow collections) this way.
            if (parser.Current is { } current) last = Pos(current.End);
            return Fail(last, "YAML syntax error: the document ends inside an unclosed '[', '{' or quote.",
                "close every bracket and quote opened before this place.");
        }
    }

    YamlNode ReadNode(IParser parser, int depth)
    {
        if (depth > _limits.MaxDepth)
            Stop(Pos(parser.Current!.Start), $"nesting is deeper than {_limits.MaxDepth} levels.", "flatten the document.");
        Count(parser.Current!.Start);

        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
                Stop(Pos(alias.Start), $"alias '*{alias.Value.Value}' refers to no anchor defined before it.",
                    $"define '&{alias.Value.Value}' earlier in the file.");
            CountExpansion(anchored!, Pos(alias.Start), alias.Value.Value);
            return anchored!.CloneAt(Pos(alias.Start));
        }

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            var node = MakeScalar(scalar);
            Remember(scalar, node);
            return node;
        }

        if (parser.TryConsume<SequenceStart>(out var seqStart))
        {
            CheckTag(seqStart.Tag, seqStart.Start);
            var seq = new YamlSequenceNode(Pos(seqStart.Start));
            Remember(seqStart, seq);
            while (!parser.TryConsume<SequenceEnd>(out _)) seq.Add(ReadNode(parser, depth + 1));
            return seq;
        }

        var mapStart = parser.Consume<MappingStart>();
        CheckTag(mapStart.Tag, mapStart.Start);
        var map = new YamlMappingNode(Pos(mapStart.Start));
        Remember(mapStart, map);
        var merges = new List<YamlNode>();
        var firstSeen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var keyNode = ReadNode(parser, depth + 1);
            var value = ReadNode(parser, depth + 1);
            if (keyNode is not YamlScalarNode key)
            {
                Error(keyNode.Position, "a key must be a plain name, not a list or mapping.", "write 'name: value'.");
                continue;
            }
            if (key.Value == "<<" && !key.Quoted) { merges.Add(value); continue; }
            if (firstSeen.TryGetValue(key.Value, out var first))
            {
                Error(key.Position, $"duplicate key '{key.Value}' (first defined at line {first.Line}).",
                    "keep one of the two; later keys do not override earlier ones here.");
                continue;
            }
            firstSeen[key.Value] = key.Position;
            map.Set(key, value);
        }
        foreach (var merge in merges) Merge(map, merge);
        return map;
    }

    /// <summary>YAML merge keys: entries of the merged mapping(s) that the mapping does not set itself.</summary>
    void Merge(YamlMappingNode target, YamlNode source)
    {
        var sources = source is YamlSequenceNode list ? list.Items : [source];
        foreach (var item in sources)
        {
            if (item is not YamlMappingNode from)
            {
                Error(item.Position, "'<<' merges mappings only.", "write '<<: *anchor' where the anchor names a mapping.");
                continue;
            }
            foreach (var (k, v) in from.Entries)
                if (!target.ContainsKey(k.Value)) target.Set(k, v);
        }
    }

    YamlScalarNode MakeScalar(Scalar scalar)
    {
        CheckTag(scalar.Tag, scalar.Start);
        var tag = scalar.Tag.IsEmpty || scalar.Tag.IsNonSpecific ? null : scalar.Tag.Value;
        var quoted = scalar.Style is not ScalarStyle.Plain and not ScalarStyle.Any || tag == YamlScalars.StrTag;
        return new YamlScalarNode(scalar.Value, quoted, tag, Pos(scalar.Start));
    }

    void CheckTag(YamlDotNet.Core.TagName tag, Mark at)
    {
        if (tag.IsEmpty || tag.IsNonSpecific || YamlScalars.StandardTags.Contains(tag.Value)) return;
        Stop(Pos(at), $"tag '{tag.Value}' is not allowed in a config.", "remove the tag; configs hold plain values only.");
    }

    void Remember(NodeEvent e, YamlNode node)
    {
        if (!e.Anchor.IsEmpty) _anchors[e.Anchor.Value] = node;
    }

    void Count(Mark at)
    {
        if (++_nodes > _limits.MaxNodes) Stop(Pos(at), NodeLimitMessage(), NodeLimitHint);
    }

    void CountExpansion(YamlNode anchored, SourcePosition at, string anchor)
    {
        _nodes += Size(anchored, _limits.MaxNodes - _nodes + 1);
        if (_nodes > _limits.MaxNodes)
            Stop(at, $"{NodeLimitMessage()} Alias '*{anchor}' expands past the limit (nested aliases multiply).", NodeLimitHint);
    }

    static int Size(YamlNode node, int cap)
    {
        var count = 1;
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (_, v) in map.Entries) { count += 1 + Size(v, cap - count); if (count > cap) return count; }
                break;
            case YamlSequenceNode seq:
                foreach (var item in seq.Items) { count += Size(item, cap - count); if (count > cap) return count; }
                break;
        }
        return count;
    }

    string NodeLimitMessage() => $"the document expands to more than {_limits.MaxNodes:N0} nodes.";

    const string NodeLimitHint = "use aliases only to share small values such as seq_length.";

    SourcePosition Pos(Mark mark) => new(_source, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    void Error(SourcePosition at, string message, string hint) =>
        _errors.Add(new ConfigIssue(IssueSeverity.Error, "", at, message, hint));

    void Stop(SourcePosition at, string message, string hint)
    {
        Error(at, message, hint);
        throw new LimitExceeded();
    }

    YamlReadResult Fail(SourcePosition at, string message, string hint)
    {
        Error(at, message, hint);
        return new YamlReadResult(null, _errors);
    }

    static string Clean(string message)
    {
        // YamlDotNet prefixes "(Line: a, Col: b, Idx: c) - (Line: ...): "; the position is reported separately.
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 ? message[(cut + 3)..] : message;
    }

    sealed class LimitExceeded : Exception;
}
