using Sft.Training.Config.Binding;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config;

/// <summary>The outcome of loading a config: the config when valid, and everything validation found.</summary>
public sealed record ConfigLoadResult(TrainConfig? Config, ValidationResult Validation)
{
    public bool IsValid => Config is not null && Validation.IsValid;
}

/// <summary>
/// Reads a MindFormers-shaped YAML into a validated <see cref="TrainConfig"/>: parse (with size and alias
/// limits), apply <c>--set</c> overrides, bind every section with type and range checks, check paths and
/// cross-section consistency, estimate memory. All errors are collected, not just the first.
/// </summary>
public static class TrainConfigLoader
{
    public static ConfigLoadResult LoadFile(string path, ConfigLoadOptions? options = null)
    {
        options ??= new ConfigLoadOptions();
        var full = Path.GetFullPath(path);
        options = options with
        {
            SourceName = Path.GetFileName(full),
            BaseDirectory = options.BaseDirectory ?? Path.GetDirectoryName(full),
        };
        var info = new FileInfo(full);
        if (!info.Exists)
            return Fail(options, $"config file '{full}' does not exist.", "check the path.");
        if (info.Length > options.Limits.MaxChars * 4L)
            return Fail(options, $"config file is {info.Length:N0} bytes; the limit is {options.Limits.MaxChars:N0} characters.",
                "a training config is a few kilobytes: remove pasted data from it.");
        return Load(File.ReadAllText(full), options);
    }

    public static ConfigLoadResult Load(string yaml, ConfigLoadOptions? options = null)
    {
        options ??= new ConfigLoadOptions();
        var read = YamlTreeReader.Read(yaml, options.SourceName, options.Limits);
        if (read.Root is null) return new ConfigLoadResult(null, ValidationResult.From(read.Errors, null));
        if (read.Root is not YamlMappingNode tree)
            return Fail(options, $"the config must be a mapping of settings, not {read.Root.Describe()}.", "start from one of the example configs.");

        var issues = new IssueCollector();
        issues.AddRange(ConfigOverrides.Apply(tree, options.Overrides, options.Limits));
        var ctx = new BindContext(options, issues, options.BaseDirectory ?? Directory.GetCurrentDirectory());
        var (config, memory) = ConfigBinder.Bind(tree, ctx);
        var validation = ValidationResult.From(issues.Issues, memory);
        return new ConfigLoadResult(validation.IsValid ? config : null, validation);
    }

    static ConfigLoadResult Fail(ConfigLoadOptions options, string message, string hint) =>
        new(null, ValidationResult.From([new ConfigIssue(IssueSeverity.Error, "", new SourcePosition(options.SourceName, 1, 1), message, hint)], null));
}
