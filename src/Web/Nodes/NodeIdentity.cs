using System.Text.RegularExpressions;

namespace Sft.Web.Nodes;

/// <summary>This server's node name, fixed for the process's lifetime.</summary>
public sealed partial class NodeIdentity(string name)
{
    public string Name { get; } = name;

    /// <summary><c>Sft:Node:Name</c>, else machine name and the port of the first of <c>urls</c> (or the process id when
    /// the port is 0 or unknown: two servers on one machine never share a default name).</summary>
    public static NodeIdentity Resolve(string? configured, string? urls)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var name = configured.Trim();
            if (name.Length > 128 || name.Any(char.IsControl))
                throw new InvalidOperationException($"Sft:Node:Name '{name}' must be 1 to 128 printable characters.");
            return new NodeIdentity(name);
        }
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var port = first == null ? null : Port().Match(first) is { Success: true } m && m.Groups[1].Value != "0" ? m.Groups[1].Value : null;
        return new NodeIdentity($"{Environment.MachineName}:{port ?? $"pid{Environment.ProcessId}"}");
    }

    [GeneratedRegex(@":(\d+)/?$")]
    private static partial Regex Port();
}
