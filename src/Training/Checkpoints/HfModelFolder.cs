using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Checkpoints;

/// <summary>How to load a Hugging Face model folder.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Where the parameters live; CPU when null.</summary>
    public Device? Device { get; init; }
    /// <summary>Compute dtype of the parameters (stored F32/BF16/F16 tensors are converted while reading).</summary>
    public ScalarType Dtype { get; init; } = ScalarType.Float32;
    /// <summary>Load only the first N decoder layers (the rest of the checkpoint is skipped).</summary>
    public int? NumLayers { get; init; }
}

/// <summary>How to save a model as a Hugging Face folder.</summary>
public sealed record ModelSaveOptions
{
    /// <summary>Weights above this size are sharded (model-0000i-of-0000n.safetensors + index).</summary>
    public long MaxShardBytes { get; init; } = SafeTensorsWriter.DefaultMaxShardBytes;
    /// <summary>A folder whose tokenizer files are copied in (usually the base model's).</summary>
    public string? TokenizerFrom { get; init; }
    /// <summary>Writes more files (a bundled tokenizer, say) into the folder before it is renamed into place.</summary>
    public Action<string>? AlsoWrite { get; init; }
}

/// <summary>
/// A Hugging Face model folder: config.json, generation_config.json, safetensors weights (single or
/// sharded), tokenizer files. Loading builds the model from config.json with uninitialised parameters
/// and reads every tensor straight into its parameter (no second copy of the weights), after checking
/// that names and shapes match exactly. Saving writes a temporary folder and renames it into place.
/// </summary>
public static class HfModelFolder
{
    public const string ConfigFile = "config.json";

    /// <summary>Tokenizer files copied along with a model, when present.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
        "special_tokens_map.json", "added_tokens.json", "chat_template.jinja", "chat_template.json",
    ];

    public static ModelConfig ReadConfig(string folder) => ModelConfig.Load(Path.Combine(folder, ConfigFile));

    public static CausalLM Load(string folder, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        var config = ReadConfig(folder);
        var full = config;
        if (options.NumLayers is { } n)
        {
            if (n < 1 || n > config.NumHiddenLayers)
                throw new ArgumentException($"num_layers {n} is out of range: {Path.Combine(folder, ConfigFile)} has num_hidden_layers {config.NumHiddenLayers}.");
            config = config.WithLayers(n);
        }
        using var weights = WeightSource.Open(folder);
        var model = new CausalLM(config, options.Device, options.Dtype)
        {
            Generation = GenerationConfig.Load(folder, full),
        };
        try
        {
            LoadWeights(model, weights, folder, skipLayersFrom: options.NumLayers);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// Reads every parameter of <paramref name="model"/> from <paramref name="weights"/>. Names must
    /// match exactly (missing, unexpected and mis-shaped tensors are listed together in one error);
    /// layers at index <paramref name="skipLayersFrom"/> and above are skipped when set.
    /// </summary>
    public static void LoadWeights(CausalLM model, WeightSource weights, string source, int? skipLayersFrom = null)
    {
        var parameters = model.state_dict();
        var problems = new List<string>();
        var missing = parameters.Keys.Where(k => !weights.Names.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var tiedHead = model.Config.TieWordEmbeddings && weights.Names.Contains("lm_head.weight");
        var unexpected = weights.Names
            .Where(k => !parameters.ContainsKey(k) && !(tiedHead && k == "lm_head.weight") && !IsSkippedLayer(k, skipLayersFrom))
            .Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            problems.Add($"missing tensors ({missing.Count}): {List(missing)}" +
                (missing is ["lm_head.weight"] ? " (if the head shares the embedding matrix, set \"tie_word_embeddings\": true in config.json)" : ""));
        if (unexpected.Count > 0)
            problems.Add($"unexpected tensors ({unexpected.Count}): {List(unexpected)}" +
                (unexpected.Any(k => k.StartsWith("lm_head.", StringComparison.Ordinal) || k.EndsWith(".bias", StringComparison.Ordinal))
                    ? " (check tie_word_embeddings, attention_bias and model_type in config.json)" : ""));
        foreach (var (name, parameter) in parameters)
        {
            if (!weights.Names.Contains(name)) continue;
            var info = weights.Info(name);
            if (!info.Shape.SequenceEqual(parameter.shape))
                problems.Add($"'{name}' has shape [{string.Join(", ", info.Shape)}] in the checkpoint but config.json implies [{string.Join(", ", parameter.shape)}]");
            else if (info.Dtype is not ("F32" or "BF16" or "F16"))
                problems.Add($"'{name}' is stored as {info.Dtype}; model weights must be F32, BF16 or F16");
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"The weights in {source} do not fit its config.json: {string.Join("; ", problems)}.");

        foreach (var (name, parameter) in parameters) weights.ReadInto(name, parameter);

        if (tiedHead) CheckTiedHead(model, weights, source);
    }

    static bool IsSkippedLayer(string name, int? from)
    {
        const string prefix = "model.layers.";
        if (from is null || !name.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var end = name.IndexOf('.', prefix.Length);
        return end > 0 && int.TryParse(name.AsSpan(prefix.Length, end - prefix.Length), out var layer) && layer >= from;
    }

    // A tied checkpoint that still stores lm_head.weight must store the embedding matrix there.
    static void CheckTiedHead(CausalLM model, WeightSource weights, string source)
    {
        using var scope = NewDisposeScope();
        var embedding = model.model.embed_tokens.weight;
        var head = weights.Read("lm_head.weight", embedding.dtype).to(embedding.device);
        if (!head.shape.SequenceEqual(embedding.shape) || !head.equal(embedding).all().item<bool>())
            throw new InvalidDataException(
                $"{source}: config.json sets tie_word_embeddings but lm_head.weight differs from model.embed_tokens.weight; set \"tie_word_embeddings\": false.");
    }

    static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(10)) + (names.Count > 10 ? $", ... ({names.Count - 10} more)" : "");

    /// <summary>
    /// Writes config.json (torch_dtype = the parameters' dtype), generation_config.json, the weights and
    /// tokenizer files into <paramref name="folder"/>, replacing it atomically.
    /// </summary>
    public static void Save(CausalLM model, string folder, ModelSaveOptions? options = null)
    {
        WriteAtomically(folder, temporary => WriteInto(model, temporary, options));
    }

    /// <summary>Writes the model's files into an existing folder that the caller makes visible atomically
    /// (a checkpoint's staging folder, say).</summary>
    public static void WriteInto(CausalLM model, string folder, ModelSaveOptions? options = null)
    {
        options ??= new ModelSaveOptions();
        // A model with adapters is saved as a plain HF model only once they are merged into the base weights.
        var adapters = model.named_modules().Where(m => m.module is Lora.LoraLinear).Select(m => (m.name, Layer: (Lora.LoraLinear)m.module)).ToList();
        if (adapters.FirstOrDefault(a => !a.Layer.Merged) is { name: { } unmerged })
            throw new InvalidOperationException($"{unmerged} has an unmerged LoRA adapter: merge the adapters before saving a full model, or save the adapter folder.");
        var adapterKeys = adapters.SelectMany(a => new[] { $"{a.name}.lora_A.weight", $"{a.name}.lora_B.weight" }).ToHashSet();
        var tensors = model.state_dict().Where(kv => !adapterKeys.Contains(kv.Key)).Select(kv => (kv.Key, kv.Value)).ToList();
        var config = model.Config.WithTorchDtype(model.Dtype);
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJson());
        File.WriteAllText(Path.Combine(folder, GenerationConfig.FileName), model.Generation.ToJson());
        SafeTensorsWriter.SaveWeights(folder, tensors, options.MaxShardBytes);
        if (options.TokenizerFrom is { } from) CopyTokenizerFiles(from, folder);
        options.AlsoWrite?.Invoke(folder);
    }

    /// <summary>Copies the tokenizer files present in <paramref name="from"/>; returns their names.</summary>
    public static IReadOnlyList<string> CopyTokenizerFiles(string from, string to)
    {
        if (!Directory.Exists(from)) throw new DirectoryNotFoundException($"Tokenizer folder not found: {from}");
        var copied = TokenizerFiles.Where(f => File.Exists(Path.Combine(from, f))).ToList();
        if (copied.Count == 0)
            throw new FileNotFoundException($"{from} holds no tokenizer files (expected tokenizer.json or vocab.json + merges.txt).");
        foreach (var file in copied) File.Copy(Path.Combine(from, file), Path.Combine(to, file), overwrite: true);
        return copied;
    }

    /// <summary>
    /// Fills a fresh temporary folder next to <paramref name="folder"/>, then renames it into place
    /// (an existing folder is moved aside first and deleted after), so readers never see a half-written model.
    /// </summary>
    public static void WriteAtomically(string folder, Action<string> write)
    {
        folder = Path.GetFullPath(folder.TrimEnd(Path.DirectorySeparatorChar));
        var parent = Path.GetDirectoryName(folder) ?? throw new ArgumentException($"Cannot save into the root folder {folder}.");
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(folder);
        var temporary = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            write(temporary);
            if (Directory.Exists(folder))
            {
                var old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
                Directory.Move(folder, old);
                Directory.Move(temporary, folder);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(temporary, folder);
        }
        catch
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            throw;
        }
    }
}
