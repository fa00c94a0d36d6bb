using System.Text.Json;
using System.Text.Json.Nodes;
using Sft.Training.Checkpoints;
using static TorchSharp.torch;

namespace Sft.Training.Lora;

/// <summary>The fields of PEFT's <c>adapter_config.json</c> that decide the adapter's shape and math.</summary>
public sealed record LoraSettings(int Rank, double Alpha, double Dropout, LoraTargets Targets, bool UseRsLora)
{
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;
}

/// <summary>
/// PEFT adapter folders: <c>adapter_config.json</c> + <c>adapter_model.safetensors</c> with keys
/// <c>base_model.model.{module}.lora_A.weight</c> / <c>lora_B.weight</c>, which <c>peft.PeftModel.from_pretrained</c> loads.
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    const string KeyPrefix = "base_model.model.";

    public static string KeyA(string module) => $"{KeyPrefix}{module}.lora_A.weight";
    public static string KeyB(string module) => $"{KeyPrefix}{module}.lora_B.weight";

    /// <summary>Writes the adapter folder (both files through temp names, so a reader never sees half of one).</summary>
    public static void Save(string folder, LoraSettings settings, IEnumerable<(string Module, LoraLinear Layer)> layers, string? baseModel)
    {
        Directory.CreateDirectory(folder);
        var tensors = new List<(string, Tensor)>();
        var modules = new List<string>();
        foreach (var (module, layer) in layers.OrderBy(l => l.Module, StringComparer.Ordinal))
        {
            tensors.Add((KeyA(module), layer.LoraA));
            tensors.Add((KeyB(module), layer.LoraB));
            modules.Add(module);
        }
        SafeTensorsWriter.Save(Path.Combine(folder, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var targets = settings.Targets.PeftValue is string pattern
            ? (JsonNode)JsonValue.Create(pattern)
            : new JsonArray(((IReadOnlyList<string>)settings.Targets.PeftValue).Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = settings.Rank,
            ["lora_alpha"] = settings.Alpha,
            ["lora_dropout"] = settings.Dropout,
            ["target_modules"] = targets,
            ["bias"] = "none",
            ["use_rslora"] = settings.UseRsLora,
            ["use_dora"] = false,
            ["fan_in_fan_out"] = false,
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
            ["modules_to_save"] = null,
            ["layers_to_transform"] = null,
            ["rank_pattern"] = new JsonObject(),
            ["alpha_pattern"] = new JsonObject(),
        };
        SafeTensorsWriter.WriteAtomically(Path.Combine(folder, ConfigFile),
            JsonSerializer.SerializeToUtf8Bytes(config, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads an adapter folder's settings, refusing what this engine cannot reproduce exactly.</summary>
    public static LoraSettings ReadSettings(string folder)
    {
        var path = Path.Combine(folder, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder} is not a PEFT adapter folder: {ConfigFile} is missing.", path);
        JsonNode root;
        try { root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty."); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not valid JSON: {e.Message}"); }

        InvalidDataException Fail(string key, string fix) => new($"{path}: '{key}' {fix}");
        if ((string?)root["peft_type"] is { } type && type != "LORA") throw Fail("peft_type", $"is {type}; only LORA adapters are supported.");
        if ((bool?)root["use_dora"] == true) throw Fail("use_dora", "is true; DoRA adapters are not supported.");
        if ((string?)root["bias"] is { } bias && bias != "none") throw Fail("bias", $"is '{bias}'; only bias \"none\" is supported.");
        if (root["rank_pattern"] is JsonObject rp && rp.Count > 0) throw Fail("rank_pattern", "sets per-module ranks, which are not supported.");
        if (root["alpha_pattern"] is JsonObject ap && ap.Count > 0) throw Fail("alpha_pattern", "sets per-module alphas, which are not supported.");
        if (root["layers_to_transform"] is not null) throw Fail("layers_to_transform", "is set; name the layers through a target_modules regex instead.");
        if (root["exclude_modules"] is not null) throw Fail("exclude_modules", "is set; express the exclusion in the target_modules regex instead.");
        if ((bool?)root["lora_bias"] == true) throw Fail("lora_bias", "is true; LoRA bias terms are not supported.");

        var rank = (int?)root["r"] ?? throw Fail("r", "is missing.");
        var alpha = (double?)root["lora_alpha"] ?? rank;
        var dropout = (double?)root["lora_dropout"] ?? 0;
        var targets = root["target_modules"] switch
        {
            JsonArray list => new LoraTargets(list.Select(n => (string)n!).ToArray()),
            JsonValue value when value.TryGetValue<string>(out var pattern) => new LoraTargets(pattern),
            _ => throw new InvalidDataException($"{path}: 'target_modules' must be a list of module names or a regex string."),
        };
        return new LoraSettings(rank, alpha, dropout, targets, (bool?)root["use_rslora"] ?? false);
    }

    /// <summary>Loads the adapter weights of <paramref name="folder"/> into the injected layers; every layer
    /// must find its A and B, and the file must hold nothing else.</summary>
    public static void LoadWeights(string folder, IEnumerable<(string Module, LoraLinear Layer)> layers)
    {
        var path = Path.Combine(folder, WeightsFile);
        using var file = SafeTensorsFile.Open(path);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (module, layer) in layers)
        {
            foreach (var (key, parameter) in new[] { (KeyA(module), layer.LoraA), (KeyB(module), layer.LoraB) })
            {
                if (!file.Tensors.ContainsKey(key))
                    throw new InvalidDataException($"{path} has no tensor '{key}': the adapter was trained for other target modules or another model.");
                file.ReadInto(key, parameter);
                expected.Add(key);
            }
        }
        var unexpected = file.Tensors.Keys.Where(k => !expected.Contains(k)).Take(5).ToArray();
        if (unexpected.Length > 0)
            throw new InvalidDataException($"{path} holds tensors this model has no place for: {string.Join(", ", unexpected)}.");
    }
}
