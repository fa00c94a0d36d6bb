using Sft.Training.Config;
using Sft.Web.Jobs;

namespace Sft.Web.Ui;

/// <summary>
/// Validates a job config exactly as a submit will (<see cref="JobConfigs"/>: paths and <c>builtin:</c> names under the
/// data folder, output forced into the job's folder, the device checked against this server's queues) so the editor
/// can show every finding at its line while the user types.
/// </summary>
public sealed class ConfigCheck(JobConfigs configs)
{
    public ValidationResult Validate(string yaml, IReadOnlyList<string> overrides) =>
        configs.LoadForQueue(JobIds.New(), yaml, overrides).Load.Validation;
}
