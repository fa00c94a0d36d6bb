using System.Reflection;

namespace Sft.Data.Datasets.Sources;

/// <summary>
/// The demo datasets shipped inside Sft.Data (embedded from <c>src/Data/Assets/datasets</c>), so the
/// server can offer them with no checkout: <c>alpaca_en_demo</c>, <c>alpaca_zh_demo</c>, <c>identity</c>
/// (alpaca), <c>v1_sft_demo</c> (messages with per-turn loss weights).
/// </summary>
public static class BuiltinDatasets
{
    private const string Prefix = "Sft.Data.Datasets.Builtin.";
    private static readonly Assembly Assembly = typeof(BuiltinDatasets).Assembly;

    private static readonly IReadOnlyDictionary<string, string> Resources = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        .ToDictionary(n => Path.GetFileNameWithoutExtension(n[Prefix.Length..]), n => n);

    /// <summary>The names, sorted: what a dataset spec's path may say to pick one.</summary>
    public static IReadOnlyList<string> Names { get; } = Resources.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Accepts <c>alpaca_en_demo</c> or <c>builtin:alpaca_en_demo</c>.</summary>
    public static bool TryGet(string name, out DataFile file)
    {
        var key = name.StartsWith("builtin:", StringComparison.Ordinal) ? name["builtin:".Length..] : name;
        if (!Resources.TryGetValue(key, out var resource))
        {
            file = null!;
            return false;
        }
        file = DataFile.FromStream(resource[Prefix.Length..], () => Assembly.GetManifestResourceStream(resource)!);
        return true;
    }
}
