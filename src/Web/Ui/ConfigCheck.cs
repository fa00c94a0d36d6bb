using Sft.Training.Config;
using Sft.Web.Storage;

namespace Sft.Web.Ui;

/// <summary>
/// Validates a job config the way the job server will read it (the data folder's built-in models and datasets,
/// paths relative to the data folder) so the editor can show every finding at its line while the user types.
/// </summary>
public sealed class ConfigCheck(DataFolder folder)
{
    public Builtins Builtins { get; } = new(folder.Root);

    public ValidationResult Validate(string yaml, IReadOnlyList<string> overrides) =>
        TrainConfigLoader.Load(yaml, new ConfigLoadOptions
        {
            Builtins = Builtins,
            Overrides = overrides,
            BaseDirectory = folder.Root,
            SourceName = "config.yaml",
        }).Validation;
}
