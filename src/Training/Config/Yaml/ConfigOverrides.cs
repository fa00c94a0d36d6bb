using System.Text.RegularExpressions;

namespace Sft.Training.Config.Yaml;

/// <summary>
/// <c>--set key.path=value</c> overrides, applied to the YAML tree before validation so they get the same
/// type checks as the file. The value is read as YAML (<c>1e-5</c>, <c>true</c>, <c>null</c>, <c>[0.9, 0.95]</c>).
/// Paths use dots and list indexes: <c>optimizer.learning_rate</c>, <c>callbacks[1].keep_checkpoint_max</c>,
/// <c>train_dataset.data_loader.handler.0.seq_length</c>. Missing mappings are created; an index equal to
/// the list's length appends.
/// </summary>
public static partial class ConfigOverrides
{
    /// <summary>The source name of positions inside an override: <c>--set a.b=1</c>.</summary>
    public const string SourcePrefix = "--set";

    public static IReadOnlyList<ConfigIssue> Apply(YamlMappingNode root, IEnumerable<string> overrides, YamlLimits? limits = null)
    {
        var errors = new List<ConfigIssue>();
        foreach (var expression in overrides) ApplyOne(root, expression, limits ?? YamlLimits.Default, errors);
        return errors;
    }

    static void ApplyOne(YamlMappingNode root, string expression, YamlLimits limits, List<ConfigIssue> errors)
    {
        var source = $"{SourcePrefix} {expression}";
        var at = new SourcePosition(source, 1, 1);
        var eq = expression.IndexOf('=');
        if (eq <= 0)
        {
            errors.Add(new(IssueSeverity.Error, "", at, "an override must look like key.path=value.",
                "for example --set optimizer.learning_rate=1e-5"));
            return;
        }
        var pathText = expression[..eq].Trim();
        if (!Parse(pathText, out var segments))
        {
            errors.Add(new(IssueSeverity.Error, pathText, at,
                $"'{pathText}' is not a key path.", "use names joined by dots with [n] for list items, e.g. callbacks[1].keep_checkpoint_max"));
            return;
        }

        var valueText = expression[(eq + 1)..];
        YamlNode value;
        if (valueText.Trim().Length == 0) value = new YamlScalarNode("", false, null, new SourcePosition(source, 1, eq + 2));
        else
        {
            // Pad with spaces so positions inside the value are columns of the whole expression.
            var read = YamlTreeReader.Read(new string(' ', eq + 1) + valueText, source, limits);
            if (read.Root is null)
            {
                errors.AddRange(read.Errors.Select(e => e with { Path = pathText }));
                return;
            }
            value = read.Root;
        }

        YamlNode current = root;
        var walked = "";
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var last = i == segments.Count - 1;
            var keyAt = new SourcePosition(source, 1, 1 + segment.Offset);
            switch (current)
            {
                case YamlMappingNode map when segment.Index is null:
                {
                    var child = map[segment.Name!];
                    if (last) { map.Set(new YamlScalarNode(segment.Name!, false, null, keyAt), value); return; }
                    if (child is null || child is YamlScalarNode { IsNull: true })
                    {
                        child = new YamlMappingNode(keyAt);
                        map.Set(new YamlScalarNode(segment.Name!, false, null, keyAt), child);
                    }
                    current = child;
                    break;
                }
                case YamlSequenceNode seq when segment.Index is { } index:
                {
                    if (index > seq.Items.Count)
                    {
                        errors.Add(new(IssueSeverity.Error, pathText, keyAt,
                            $"'{walked}' has {seq.Items.Count} item(s); index {index} is out of range.",
                            $"use an index from 0 to {seq.Items.Count} ({seq.Items.Count} appends)."));
                        return;
                    }
                    if (index == seq.Items.Count) seq.Add(last ? value : new YamlMappingNode(keyAt));
                    else if (last) seq.Replace(index, value);
                    if (last) return;
                    current = seq.Items[index];
                    break;
                }
                default:
                {
                    var what = segment.Index is null ? $"key '{segment.Name}'" : $"item [{segment.Index}]";
                    errors.Add(new(IssueSeverity.Error, pathText, keyAt,
                        $"cannot set {what}: '{(walked.Length == 0 ? "(root)" : walked)}' is {current.Describe()}.",
                        segment.Index is null ? "list items are addressed as name[0]." : "only lists have [n] items."));
                    return;
                }
            }
            walked = segment.Index is { } n ? $"{walked}[{n}]" : walked.Length == 0 ? segment.Name! : $"{walked}.{segment.Name}";
        }
    }

    sealed record Segment(string? Name, int? Index, int Offset);

    /// <summary>Splits <c>a.b[0].c</c> (or <c>a.b.0.c</c>) into name and index segments.</summary>
    static bool Parse(string path, out List<Segment> segments)
    {
        segments = [];
        var offset = 0;
        foreach (var part in path.Split('.'))
        {
            var match = PartPattern().Match(part);
            if (!match.Success) return false;
            var name = match.Groups["name"].Value;
            if (int.TryParse(name, out var numeric)) segments.Add(new(null, numeric, offset));
            else segments.Add(new(name, null, offset));
            foreach (Capture index in match.Groups["index"].Captures)
                segments.Add(new(null, int.Parse(index.Value), offset + index.Index - 1));
            offset += part.Length + 1;
        }
        return segments.Count > 0;
    }

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9_\-]+)(\[(?<index>[0-9]+)\])*$")]
    private static partial Regex PartPattern();
}
