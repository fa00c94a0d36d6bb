using Sft.Training.Checkpoints;
using Sft.Training.Lora;
using Sft.Training.Models;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>File-system checks done before anything runs: model folder, weights, tokenizer, adapter files.</summary>
public static class PathChecks
{
    /// <summary>
    /// A Hugging Face model folder: a config.json the engine accepts (<see cref="ModelConfig"/>) and safetensors
    /// weights the loader can open (<see cref="WeightSource"/>: one file, or an index whose shards all exist).
    /// Returns the architecture, or null after reporting why not.
    /// </summary>
    public static ModelConfig? ModelFolder(string folder, string path, SourcePosition at, IssueCollector issues)
    {
        if (!Directory.Exists(folder))
        {
            issues.Error(path, at, $"model folder '{folder}' does not exist.",
                File.Exists(folder) ? "point to the folder that holds config.json, not to a file in it."
                    : "set it to a Hugging Face model folder (config.json + *.safetensors), e.g. a snapshot downloaded with huggingface-cli.");
            return null;
        }
        ModelConfig? config = null;
        try { config = HfModelFolder.ReadConfig(folder); }
        catch (FileNotFoundException)
        {
            issues.Error(path, at, $"'{folder}' has no config.json.", "use the Hugging Face model folder itself (it holds config.json).");
        }
        catch (InvalidDataException e)
        {
            issues.Error(path, at, e.Message, "use a Qwen2/Qwen2.5 or Llama checkpoint in Hugging Face format.");
        }
        try
        {
            using var weights = WeightSource.Open(folder);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            issues.Error(path, at, e.Message, "download the complete model: its *.safetensors files (and model.safetensors.index.json when sharded).");
        }
        return config;
    }

    public static void FileExists(string file, string path, SourcePosition at, IssueCollector issues, string what)
    {
        if (File.Exists(file)) return;
        issues.Error(path, at, $"{what} '{file}' does not exist.",
            Directory.Exists(file) ? "point to the file, not the folder." : "fix the path (relative paths are relative to the config file).");
    }

    /// <summary>A PEFT adapter folder the engine can continue from: its settings (<see cref="PeftAdapter.ReadSettings"/>) and weights file.</summary>
    public static LoraSettings? AdapterFolder(string folder, string path, SourcePosition at, IssueCollector issues)
    {
        if (!Directory.Exists(folder))
        {
            issues.Error(path, at, $"adapter folder '{folder}' does not exist.", "point to a PEFT adapter folder (adapter_config.json + adapter_model.safetensors).");
            return null;
        }
        try
        {
            var settings = PeftAdapter.ReadSettings(folder);
            using var weights = SafeTensorsFile.Open(Path.Combine(folder, PeftAdapter.WeightsFile));
            return settings;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
        {
            issues.Error(path, at, e.Message, "use a folder saved by PEFT's save_pretrained or by a LoRA job of SFT Studio.");
            return null;
        }
    }
}
