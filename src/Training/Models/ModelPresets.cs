using System.IO.Compression;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Sft.Training.Models;

/// <summary>A built-in model shape: config.json, generation_config.json and the bundled tokenizer it uses.</summary>
public sealed record ModelPreset(string Name, string Description, ModelConfig Config, GenerationConfig Generation, string? Tokenizer);

/// <summary>
/// Model presets and tokenizers embedded in Sft.Training (Models/Presets/*.json,
/// Assets/tokenizers/*), so creating a demo model needs no repository checkout or network.
/// </summary>
public static class ModelPresets
{
    const string PresetPrefix = "Sft.Training/presets/";
    const string TokenizerPrefix = Tokenization.BuiltInTokenizers.ResourcePrefix;
    static readonly Assembly Assembly = typeof(ModelPresets).Assembly;

    public static IReadOnlyList<string> Names { get; } = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(PresetPrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
        .Select(n => n[PresetPrefix.Length..^".json".Length]).Order(StringComparer.Ordinal).ToArray();

    public static IReadOnlyList<string> Tokenizers => Tokenization.BuiltInTokenizers.Names;

    public static ModelPreset Get(string name)
    {
        var resource = PresetPrefix + name + ".json";
        using var stream = Assembly.GetManifestResourceStream(resource)
            ?? throw new ArgumentException($"Unknown model preset '{name}'. Presets: {string.Join(", ", Names)}.");
        var root = JsonNode.Parse(stream) as JsonObject ?? throw new InvalidDataException($"Preset {name} is not a JSON object.");
        var source = $"preset {name}";
        var config = ModelConfig.Parse(root["config"]?.ToJsonString() ?? throw new InvalidDataException($"{source} has no \"config\"."), source);
        var generation = root["generation_config"] is JsonObject g ? GenerationConfig.Parse(g.ToJsonString(), source) : GenerationConfig.From(config);
        return new ModelPreset(name, root["description"]?.GetValue<string>() ?? "", config, generation, root["tokenizer"]?.GetValue<string>());
    }

    /// <summary>Writes a bundled tokenizer (tokenizer.json, tokenizer_config.json) into <paramref name="folder"/>; returns the file names.</summary>
    public static IReadOnlyList<string> WriteTokenizer(string tokenizer, string folder)
    {
        var prefix = TokenizerPrefix + tokenizer + "/";
        var resources = Assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
        if (resources.Length == 0)
            throw new ArgumentException($"No bundled tokenizer '{tokenizer}'. Bundled: {string.Join(", ", Tokenizers)}.");
        var written = new List<string>();
        foreach (var resource in resources)
        {
            var name = resource[prefix.Length..];
            using var stream = Assembly.GetManifestResourceStream(resource)!;
            var gzipped = name.EndsWith(".gz", StringComparison.Ordinal);
            if (gzipped) name = name[..^3];
            using var output = File.Create(Path.Combine(folder, name));
            if (gzipped)
            {
                using var gzip = new GZipStream(stream, CompressionMode.Decompress);
                gzip.CopyTo(output);
            }
            else stream.CopyTo(output);
            written.Add(name);
        }
        return written;
    }

    /// <summary>
    /// Writes a randomly initialised model of preset <paramref name="name"/> (weights from <paramref name="seed"/>, so
    /// the same seed gives the same model) with its bundled tokenizer into <paramref name="folder"/>, atomically.
    /// </summary>
    public static void CreateFolder(string name, string folder, long seed = 0)
    {
        var preset = Get(name);
        using var model = new CausalLM(preset.Config, TorchSharp.torch.CPU, ModelConfig.ParseDtype(preset.Config.TorchDtype, "torch_dtype")) { Generation = preset.Generation };
        ModelInit.Initialize(model, seed);
        Checkpoints.HfModelFolder.Save(model, folder, new Checkpoints.ModelSaveOptions
        {
            AlsoWrite = preset.Tokenizer is { } tokenizer ? f => WriteTokenizer(tokenizer, f) : null,
        });
    }
}
