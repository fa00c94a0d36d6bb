namespace Sft.Training.Config.Yaml;

/// <summary>
/// Bounds on what a config may cost to read. <see cref="MaxNodes"/> counts nodes after alias expansion,
/// which is what stops "billion laughs" documents (a few lines of nested aliases that expand exponentially).
/// </summary>
public sealed record YamlLimits(int MaxChars, int MaxNodes, int MaxDepth)
{
    /// <summary>1 MiB of text, 100,000 nodes, 64 levels: a real config uses about 1% of each.</summary>
    public static YamlLimits Default { get; } = new(1 << 20, 100_000, 64);
}
