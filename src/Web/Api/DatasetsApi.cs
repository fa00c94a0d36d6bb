using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Data.Persistence;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;
using Sft.Web.Api.Models;
using Sft.Web.Datasets;
using Sft.Web.Ui;
using Sft.Web.Uploads;

namespace Sft.Web.Api;

/// <summary>Datasets: list (built-in, uploaded, imported), upload, import from the Hub (in the background), preview
/// (rows rendered through a template with the built-in Qwen tokenizer, and a token length histogram).</summary>
public static partial class DatasetsApi
{
    const int StatisticsRows = 1000;

    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        var datasets = app.MapGroup("/api/v1/datasets").WithTags("Datasets");
        datasets.MapGet("/", ListDatasets).WithName(nameof(ListDatasets)).WithSummary("Built-in, uploaded and imported datasets.");
        datasets.MapPost("/", UploadDataset).WithName(nameof(UploadDataset)).DisableAntiforgery()
            .WithSummary("Upload a dataset file (multipart field 'file': .json, .jsonl, .csv, .parquet); it is read in full before it is kept.");
        datasets.MapPost("/import", ImportDataset).WithName(nameof(ImportDataset))
            .WithSummary("Import a Hugging Face Hub dataset (JSON {hub_id, revision, split}); downloads in the background, see its status.");
        datasets.MapGet("/{id}/preview", PreviewDataset).WithName(nameof(PreviewDataset))
            .WithSummary("Rows rendered through a template (template=, rows=, seq_length=) and token length statistics.");
        return app;
    }

    public static async Task<Ok<ListDto<DatasetDto>>> ListDatasets(SftDbContext db, CancellationToken ct)
    {
        var list = BuiltinDatasets.Names.Select(name => new DatasetDto(DatasetCatalog.BuiltinPrefix + name, name, "builtin", "ready",
            DatasetCatalog.BuiltinPrefix + name, null, null, null, null, null, null, null)).ToList();
        var rows = await db.Datasets.AsNoTracking().ToListAsync(ct);
        list.AddRange(rows.OrderByDescending(d => d.CreatedAt).Select(From));
        return TypedResults.Ok(new ListDto<DatasetDto>(list, false));
    }

    public static async Task<Results<Created<DatasetDto>, ProblemHttpResult>> UploadDataset(
        HttpContext http, MultipartUploads uploads, SftDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var inspected = new Dictionary<string, (long Rows, DatasetFormat Format)>();
        var spec = new UploadSpec("datasets", JobsApi.DatasetExtensions)
        {
            MaxFiles = 1,
            Validate = async (file, token) =>
            {
                try
                {
                    var found = await DatasetCatalog.InspectAsync(file.StagedPath, token);
                    if (found.Rows == 0) return "the file holds no rows.";
                    inspected[file.StagedPath] = found;
                    return null;
                }
                catch (Exception e) when (e is DatasetException or InvalidDataException or JsonException) { return e.Message; }
            },
        };
        var upload = await uploads.ReadAsync(http, spec, ct);
        if (!upload.Succeeded) return upload.Problem!;
        var file = upload.Files[0];
        var (rows, format) = inspected.Values.Single();
        var row = new DatasetEntity
        {
            Id = DatasetCatalog.NewId(), Name = upload.Fields.GetValueOrDefault("name") ?? file.FileName, Source = "upload",
            LocalPath = file.StoredPath, Format = format.ToString().ToLowerInvariant(), Rows = rows, SizeBytes = file.Bytes,
            Status = "ready", CreatedAt = clock.GetUtcNow(),
        };
        db.Datasets.Add(row);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/datasets/{row.Id}", From(row));
    }

    public static async Task<Results<Accepted<DatasetDto>, ProblemHttpResult>> ImportDataset(
        DatasetCatalog catalog, ImportDatasetRequest? body, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body?.HubId))
            return ApiProblems.Invalid("hub_id", "hub_id is required: a Hugging Face dataset id such as 'tatsu-lab/alpaca'.");
        if (!HubId().IsMatch(body.HubId) || body.HubId.Contains(".."))
            return ApiProblems.Invalid("hub_id", $"'{body.HubId}' is not a Hub dataset id; use 'org/name' (letters, digits, '-', '_', '.').");
        if (body.Revision is { } revision && !Revision().IsMatch(revision))
            return ApiProblems.Invalid("revision", $"'{revision}' is not a branch, tag or commit name.");
        var row = await catalog.StartImportAsync(body.HubId, body.Revision, body.Split, ct);
        return TypedResults.Accepted($"/api/v1/datasets/{row.Id}", From(row));
    }

    public static async Task<Results<Ok<DatasetPreviewDto>, ProblemHttpResult>> PreviewDataset(
        DatasetCatalog catalog, string id, [FromQuery] string? template, [FromQuery] int? rows,
        [FromQuery(Name = "seq_length")] int? seqLength, CancellationToken ct)
    {
        if (!ApiProblems.TryLimit(rows, 5, 50, out var take, out var problem)) return problem!;
        var limit = seqLength ?? 512;
        if (limit is < 8 or > 1_048_576) return ApiProblems.Invalid("seq_length", $"seq_length must be between 8 and 1048576 (got {limit}).");
        var (spec, notReady) = await catalog.SpecForAsync(id, ct);
        if (notReady != null) return ApiProblems.Problem(409, "Not ready", notReady, "id", "dataset_not_ready");
        if (spec == null) return ApiProblems.NotFound("dataset", id);

        PromptTemplate prompt;
        try { prompt = PromptTemplates.Resolve(template ?? "mindformers_alpaca", BuiltInTokenizers.LoadQwen()); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return ApiProblems.Invalid("template", e.Message); }
        try
        {
            using var hub = catalog.CreateHubClient();
            var result = await DatasetPreviews.PreviewAsync(spec, id, prompt, limit, take, StatisticsRows, hub, ct);
            var preview = result.Rows
                .Select(r => new PreviewRowDto(r.Text, r.InputIds.Length, r.Labels.Count(l => l != -100), r.InputIds, r.Labels)).ToList();
            return TypedResults.Ok(new DatasetPreviewDto(prompt.Name, limit, preview, result.Statistics, result.Statistics.Rows));
        }
        catch (Exception e) when (e is DatasetException or InvalidDataException)
        {
            return ApiProblems.Problem(422, "Unreadable dataset", $"Dataset {id}: {e.Message}", "id", "invalid_dataset");
        }
    }

    static DatasetDto From(DatasetEntity d) => new(d.Id, d.Name, d.Source, d.Status,
        d.Source == "hub" ? d.HubId! : d.LocalPath ?? "", d.HubId, d.Revision, d.Format, d.Rows, d.SizeBytes, d.Error, d.CreatedAt.ToUnixTimeSeconds());

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")]
    private static partial Regex HubId();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,127}$")]
    private static partial Regex Revision();
}
