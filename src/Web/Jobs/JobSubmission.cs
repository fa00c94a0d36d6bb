using Sft.Data.Persistence;
using Sft.Training.Config;
using Sft.Web.Uploads;

namespace Sft.Web.Jobs;

/// <summary>A job to create: the YAML as the user wrote it, an optional name, <c>key.path=value</c> overrides, and an
/// uploaded dataset file that replaces <c>train_dataset.data_loader.path</c>.</summary>
public sealed record JobSubmission(
    string ConfigYaml, string? Name = null, IReadOnlyList<string>? Overrides = null, StoredUpload? DatasetUpload = null,
    string? CreatedBy = null);

/// <summary>The outcome of a submit or clone: the stored job, or the validation that refused it (nothing stored).</summary>
public sealed record JobSubmitResult(JobEntity? Job, ValidationResult Validation);

/// <summary>Why an action on a job was refused: the HTTP-ish status, a code, a message, the parameter at fault.</summary>
public sealed record JobActionError(int Status, string Code, string Message, string? Param = "id");

/// <summary>The outcome of cancel, resume or clone: the job after the action, or why it was refused.</summary>
public sealed record JobActionResult(JobEntity? Job, JobActionError? Error, ValidationResult? Validation = null)
{
    public static JobActionResult Refused(int status, string code, string message, string? param = "id") =>
        new(null, new JobActionError(status, code, message, param));
}
