using Sft.Training.Config.Yaml;

namespace Sft.Training.Config;

/// <summary>How a config is read and what validation may assume about the machine.</summary>
public sealed record ConfigLoadOptions
{
    /// <summary><c>key.path=value</c> overrides applied in order before validation (the CLI's <c>--set</c>).</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>Folder relative paths in the config are relative to; default: the config file's folder, else the current one.</summary>
    public string? BaseDirectory { get; init; }

    /// <summary>Name used in positions (<c>finetune.yaml:12:5</c>); <see cref="TrainConfigLoader.LoadFile"/> sets the file name.</summary>
    public string SourceName { get; init; } = "config.yaml";

    /// <summary>CUDA devices on the machine that will run the job (for <c>device</c> and <c>data_parallel</c> checks).</summary>
    public int AvailableCudaDevices { get; init; }

    /// <summary>Resolves <c>builtin:NAME</c> models; null: such names are accepted unchecked, with a warning.</summary>
    public IBuiltinResolver? Builtins { get; init; }

    /// <summary>Check that model, tokenizer, dataset and adapter paths exist (off for editing a config for another machine).</summary>
    public bool CheckFileSystem { get; init; } = true;

    public YamlLimits Limits { get; init; } = YamlLimits.Default;
}

/// <summary>
/// Resolves <c>load_checkpoint: builtin:NAME</c>: models the <c>create-model</c> command makes, in a folder the
/// host decides. (Built-in datasets ship inside Sft.Data: <see cref="Sft.Data.Datasets.Sources.BuiltinDatasets"/>.)
/// </summary>
public interface IBuiltinResolver
{
    /// <summary>The model's Hugging Face folder (which may not exist yet), or null for an unknown name.</summary>
    string? ResolveModel(string name);

    IReadOnlyCollection<string> ModelNames { get; }
}

/// <summary>An <see cref="IBuiltinResolver"/> over a fixed name → folder table.</summary>
public sealed class BuiltinCatalog(IReadOnlyDictionary<string, string> models) : IBuiltinResolver
{
    public string? ResolveModel(string name) => models.GetValueOrDefault(name);

    public IReadOnlyCollection<string> ModelNames => models.Keys.ToList();
}
