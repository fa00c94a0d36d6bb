using System.Globalization;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>Typed reads of single nodes; a wrong type is an error naming the path, the position and the fix.</summary>
public static class NodeValues
{
    public static bool TryInt(YamlNode node, string path, IssueCollector issues, out int value)
    {
        value = 0;
        if (node is YamlScalarNode { Quoted: false } s && YamlScalars.TryInt(s.Value, out var l))
        {
            if (l is >= int.MinValue and <= int.MaxValue) { value = (int)l; return true; }
            issues.Error(path, node.Position, $"{s.Value} is too large.", "use a value below 2,147,483,648.");
            return false;
        }
        var hint = node is YamlScalarNode { Quoted: true } q && YamlScalars.TryInt(q.Value, out _)
            ? "remove the quotes." : "write a whole number such as 4.";
        issues.Error(path, node.Position, $"expected an integer, got {node.Describe()}.", hint);
        return false;
    }

    public static bool TryDouble(YamlNode node, string path, IssueCollector issues, out double value)
    {
        value = 0;
        if (node is YamlScalarNode { Quoted: false } s && YamlScalars.TryDouble(s.Value, out value))
        {
            if (double.IsFinite(value)) return true;
            issues.Error(path, node.Position, $"expected a finite number, got {s.Value}.", "write a number such as 1.0e-5.");
            return false;
        }
        var hint = node is YamlScalarNode { Quoted: true } q && YamlScalars.TryDouble(q.Value, out _)
            ? "remove the quotes." : "write a number such as 1.0e-5.";
        issues.Error(path, node.Position, $"expected a number, got {node.Describe()}.", hint);
        return false;
    }

    public static bool TryBool(YamlNode node, string path, IssueCollector issues, out bool value)
    {
        value = false;
        if (node is YamlScalarNode { Quoted: false } s && YamlScalars.TryBool(s.Value, out value)) return true;
        var hint = node is YamlScalarNode { Quoted: true } q && YamlScalars.TryBool(q.Value, out _)
            ? "remove the quotes." : "write true or false.";
        issues.Error(path, node.Position, $"expected true or false, got {node.Describe()}.", hint);
        return false;
    }

    /// <summary>Any scalar as text (<c>path: 123</c> is the string "123").</summary>
    public static bool TryString(YamlNode node, string path, IssueCollector issues, out string value)
    {
        value = "";
        if (node is YamlScalarNode s) { value = s.Value; return true; }
        issues.Error(path, node.Position, $"expected a single value, got {node.Describe()}.", "write one value on the same line as the key.");
        return false;
    }

    public static bool IsNull(YamlNode? node) => node is null or YamlScalarNode { IsNull: true };

    /// <summary>Numbers in messages: 0.01, 1e-05 → 1e-5, 3584.</summary>
    public static string Format(double value) =>
        value != 0 && (Math.Abs(value) < 1e-3 || Math.Abs(value) >= 1e7)
            ? value.ToString("0.#####e+0", CultureInfo.InvariantCulture)
            : value.ToString("0.######", CultureInfo.InvariantCulture);
}
