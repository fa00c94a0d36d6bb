namespace Sft.Web.Api.Models;

/// <summary>A base model a job can name in <c>load_checkpoint</c>: a folder under data/models or a built-in preset
/// (<c>builtin:NAME</c>, created on first use).</summary>
public sealed record ModelDto(string Id, string Name, string Source, string LoadCheckpoint, bool Exists, string? Path,
    long? SizeBytes, string? ModelType, int? NumLayers, int? HiddenSize, string? Description);

/// <summary>A dataset a job can name in <c>train_dataset.data_loader.path</c>: built in, uploaded, or imported from the Hub.</summary>
public sealed record DatasetDto(string Id, string Name, string Source, string Status, string Path, string? HubId, string? Revision,
    string? Format, long? Rows, long? SizeBytes, string? Error, long? CreatedAt)
{
    public string Object => "dataset";
}

/// <summary>The body of <c>POST /api/v1/datasets/import</c>: a Hugging Face dataset id (<c>org/name</c>) and optional revision.</summary>
public sealed record ImportDatasetRequest(string? HubId, string? Revision = null, string? Split = null);

/// <summary>Rows rendered through a template, and token length statistics of the first rows.</summary>
public sealed record DatasetPreviewDto(string Template, int SeqLength, IReadOnlyList<PreviewRowDto> Rows, object Statistics, int SampledRows);

public sealed record PreviewRowDto(string Text, int Length, int LossTokens, int[] InputIds, int[] Labels);
