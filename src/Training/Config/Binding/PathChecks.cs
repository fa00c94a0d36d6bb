using System.Buffers.Binary;
using System.Text.Json;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>File-system checks done before anything runs: model folder, weights, tokenizer, adapter files.</summary>
public static class PathChecks
{
    /// <summary>
    /// A Hugging Face model folder: config.json (qwen2/llama) and safetensors weights (one file, an index
    /// whose shards all exist, or loose shards). Returns the dimensions, or null after reporting why not.
    /// </summary>
    public static ModelDims? ModelFolder(string folder, string path, SourcePosition at, IssueCollector issues)
    {
        if (!Directory.Exists(folder))
        {
            issues.Error(path, at, $"model folder '{folder}' does not exist.",
                File.Exists(folder) ? "point to the folder that holds config.json, not to a file in it."
                    : "set it to a Hugging Face model folder (config.json + *.safetensors), e.g. a snapshot downloaded with huggingface-cli.");
            return null;
        }
        var configPath = Path.Combine(folder, "config.json");
        ModelDims? dims = null;
        if (!File.Exists(configPath))
            issues.Error(path, at, $"'{folder}' has no config.json.", "use the Hugging Face model folder itself (it holds config.json).");
        else
        {
            dims = ModelDims.TryRead(configPath, out var error);
            if (dims is null) issues.Error(path, at, $"{error} ({configPath}).", "use a Qwen2/Qwen2.5 or Llama checkpoint in Hugging Face format.");
        }
        CheckWeights(folder, path, at, issues);
        return dims;
    }

    static void CheckWeights(string folder, string path, SourcePosition at, IssueCollector issues)
    {
        var index = Path.Combine(folder, "model.safetensors.index.json");
        if (File.Exists(index))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(index));
                var files = doc.RootElement.GetProperty("weight_map").EnumerateObject()
                    .Select(p => p.Value.GetString() ?? "").Distinct().ToList();
                var missing = files.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
                if (missing.Count > 0)
                    issues.Error(path, at, $"the weight index lists {missing.Count} missing shard(s): {string.Join(", ", missing.Take(3))}.",
                        "download the complete model (every model-0000x-of-0000n.safetensors file).");
                foreach (var f in files.Except(missing).Take(1)) CheckSafetensors(Path.Combine(folder, f), path, at, issues);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                issues.Error(path, at, $"model.safetensors.index.json is not a valid index ({e.Message}).", "download the index file again.");
            }
            return;
        }
        var single = Path.Combine(folder, "model.safetensors");
        var shards = Directory.GetFiles(folder, "*.safetensors");
        if (File.Exists(single)) { CheckSafetensors(single, path, at, issues); return; }
        if (shards.Length > 0) { CheckSafetensors(shards[0], path, at, issues); return; }
        var bins = Directory.GetFiles(folder, "*.bin").Length + Directory.GetFiles(folder, "*.ckpt").Length;
        issues.Error(path, at, bins > 0
                ? $"'{folder}' holds .bin/.ckpt weights only; SFT Studio loads safetensors."
                : $"'{folder}' has no *.safetensors weights.",
            bins > 0 ? "convert the weights to safetensors (transformers: model.save_pretrained(dir, safe_serialization=True))."
                : "download the model's *.safetensors files into the folder.");
    }

    /// <summary>The 8-byte little-endian header length and the start of the JSON header are sane.</summary>
    public static void CheckSafetensors(string file, string path, SourcePosition at, IssueCollector issues)
    {
        try
        {
            using var stream = File.OpenRead(file);
            Span<byte> head = stackalloc byte[9];
            var read = stream.ReadAtLeast(head, 9, throwOnEndOfStream: false);
            var length = read >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(head) : 0;
            if (read < 9 || length == 0 || length > (ulong)stream.Length - 8 || head[8] != (byte)'{')
                issues.Error(path, at, $"'{file}' is not a safetensors file.", "download the weights again; the file is truncated or of another format.");
        }
        catch (IOException e)
        {
            issues.Error(path, at, $"'{file}' cannot be read ({e.Message}).", "check the file's permissions.");
        }
    }

    public static void FileExists(string file, string path, SourcePosition at, IssueCollector issues, string what)
    {
        if (File.Exists(file)) return;
        issues.Error(path, at, $"{what} '{file}' does not exist.",
            Directory.Exists(file) ? "point to the file, not the folder." : "fix the path (relative paths are relative to the config file).");
    }

    /// <summary>A PEFT adapter folder: adapter_config.json and adapter_model.safetensors.</summary>
    public static void AdapterFolder(string folder, string path, SourcePosition at, IssueCollector issues)
    {
        if (!Directory.Exists(folder))
        {
            issues.Error(path, at, $"adapter folder '{folder}' does not exist.", "point to a PEFT adapter folder (adapter_config.json + adapter_model.safetensors).");
            return;
        }
        foreach (var name in new[] { "adapter_config.json", "adapter_model.safetensors" })
            if (!File.Exists(Path.Combine(folder, name)))
                issues.Error(path, at, $"adapter folder '{folder}' has no {name}.", "use a folder saved by PEFT's save_pretrained or by a LoRA job of SFT Studio.");
    }
}
