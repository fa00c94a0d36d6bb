using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Sft.Data.Persistence;
using Sft.Web.Api.Models;
using Sft.Web.Jobs;
using Sft.Web.Uploads;

namespace Sft.Web.Api;

public static partial class JobsApi
{
    /// <summary>Extensions a job's dataset upload may have (the formats the dataset loader reads).</summary>
    public static readonly IReadOnlySet<string> DatasetExtensions = new HashSet<string>([".json", ".jsonl", ".csv", ".parquet", ".txt"]);

    /// <summary>The largest config file of a multipart submit (a config is a few kilobytes).</summary>
    public const long MaxConfigBytes = 1 << 20;

    static readonly IReadOnlySet<string> ConfigExtensions = new HashSet<string>([".yaml", ".yml"]);
    static readonly string[] YamlMediaTypes = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"];

    static void MapJobCommands(RouteGroupBuilder jobs)
    {
        jobs.MapPost("/", CreateJob).WithName(nameof(CreateJob))
            .WithSummary("Submit a job: the YAML as an application/yaml body, JSON {config_yaml, name, overrides}, or multipart " +
                         "with the YAML file (field 'config') and an optional dataset file (field 'dataset').")
            .DisableAntiforgery();
        jobs.MapPost("/{id}/cancel", CancelJob).WithName(nameof(CancelJob)).WithSummary("Cancel a queued job, or stop a running one at its next step (it saves a checkpoint).");
        jobs.MapPost("/{id}/resume", ResumeJob).WithName(nameof(ResumeJob)).WithSummary("Queue a cancelled or failed job again; it continues from its newest checkpoint.");
        jobs.MapPost("/{id}/clone", CloneJob).WithName(nameof(CloneJob)).WithSummary("A new job from this one's config, optionally edited (JSON {config_yaml, name}).");
    }

    public static async Task<Results<Created<JobDto>, ProblemHttpResult>> CreateJob(
        HttpContext http, JobService jobs, MultipartUploads uploads, IOptions<UploadOptions> limits,
        [FromQuery] string? name, [FromQuery(Name = "set")] string[]? set, CancellationToken ct)
    {
        var read = await ReadSubmissionAsync(http, uploads, name, set, ct);
        if (read.Problem != null) return read.Problem;
        var submission = read.Submission! with { CreatedBy = http.User.FindFirstValue(ClaimTypes.Name) };
        var result = await jobs.SubmitAsync(submission, ct);
        if (result.Job == null)
        {
            foreach (var upload in read.Stored) DeleteUpload(upload);               // a refused job leaves nothing behind
            return ConfigProblems.Invalid(result.Validation);
        }
        return TypedResults.Created($"/api/v1/jobs/{result.Job.Id}", JobDto.From(result.Job));
    }

    public static async Task<Results<Ok<JobDto>, ProblemHttpResult>> CancelJob(JobService jobs, string id, CancellationToken ct) =>
        Answer(await jobs.CancelAsync(id, ct));

    public static async Task<Results<Ok<JobDto>, ProblemHttpResult>> ResumeJob(JobService jobs, string id, CancellationToken ct) =>
        Answer(await jobs.ResumeAsync(id, ct));

    public static async Task<Results<Created<JobDto>, ProblemHttpResult>> CloneJob(
        HttpContext http, JobService jobs, string id, CancellationToken ct)
    {
        CloneJobRequest? body = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            if (!http.Request.HasJsonContentType())
                return ApiProblems.Problem(415, "Unsupported media type", "Send the clone's edits as JSON {\"config_yaml\": ..., \"name\": ...}, or no body.", "Content-Type", "unsupported_media_type");
            try { body = await http.Request.ReadFromJsonAsync<CloneJobRequest>(ct); }
            catch (JsonException e) { return ApiProblems.Invalid("body", $"The JSON body is malformed: {e.Message}"); }
        }
        var result = await jobs.CloneAsync(id, body?.ConfigYaml, body?.Name, http.User.FindFirstValue(ClaimTypes.Name), ct);
        if (result.Error is { } error) return Problem(error);
        if (result.Job == null) return ConfigProblems.Invalid(result.Validation!);
        return TypedResults.Created($"/api/v1/jobs/{result.Job.Id}", JobDto.From(result.Job));
    }

    static Results<Ok<JobDto>, ProblemHttpResult> Answer(JobActionResult result) =>
        result.Error is { } error ? Problem(error) : TypedResults.Ok(JobDto.From(result.Job!));

    static ProblemHttpResult Problem(JobActionError error) => ApiProblems.Problem(error.Status, error.Status switch
    {
        404 => "Not found",
        409 => "Conflict",
        _ => "Invalid request",
    }, error.Message, error.Param, error.Code);

    sealed record ReadResult(JobSubmission? Submission, ProblemHttpResult? Problem, IReadOnlyList<StoredUpload> Stored)
    {
        public ReadResult(JobSubmission? submission, ProblemHttpResult? problem) : this(submission, problem, []) { }
    }

    static async Task<ReadResult> ReadSubmissionAsync(HttpContext http, MultipartUploads uploads, string? name, string[]? set, CancellationToken ct)
    {
        var request = http.Request;
        MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType);
        var type = mediaType?.MediaType.Value?.ToLowerInvariant();
        if (type == "multipart/form-data") return await ReadMultipartAsync(http, uploads, name, set, ct);
        if (type == "application/json")
        {
            CreateJobRequest? body;
            try { body = await request.ReadFromJsonAsync<CreateJobRequest>(ct); }
            catch (JsonException e) { return Fail(ApiProblems.Invalid("body", $"The JSON body is malformed: {e.Message}")); }
            if (string.IsNullOrWhiteSpace(body?.ConfigYaml))
                return Fail(ApiProblems.Invalid("config_yaml", "config_yaml is required: the job's YAML config as a string."));
            return new ReadResult(new JobSubmission(body.ConfigYaml, body.Name ?? name, [.. body.Overrides ?? [], .. set ?? []]), null);
        }
        if (type != null && YamlMediaTypes.Contains(type))
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var yaml = await reader.ReadToEndAsync(ct);
            if (string.IsNullOrWhiteSpace(yaml)) return Fail(ApiProblems.Invalid("body", "The body is empty; send the job's YAML config."));
            return new ReadResult(new JobSubmission(yaml, name, set ?? []), null);
        }
        return Fail(ApiProblems.Problem(415, "Unsupported media type",
            $"Send the config as application/yaml, as JSON {{\"config_yaml\": ...}}, or as multipart/form-data (got '{request.ContentType ?? "no Content-Type"}').",
            "Content-Type", "unsupported_media_type"));
    }

    static async Task<ReadResult> ReadMultipartAsync(HttpContext http, MultipartUploads uploads, string? name, string[]? set, CancellationToken ct)
    {
        var spec = new UploadSpec("jobs", new HashSet<string>([.. ConfigExtensions, .. DatasetExtensions])) { MaxFiles = 2 };
        var upload = await uploads.ReadAsync(http, spec, ct);
        if (!upload.Succeeded) return Fail(upload.Problem!);
        var config = upload.Files.FirstOrDefault(f => f.Field == "config");
        var dataset = upload.Files.FirstOrDefault(f => f.Field == "dataset");
        string? problemParam = null, problem = null;
        var status = StatusCodes.Status400BadRequest;
        if (config == null) (problemParam, problem) = ("config", "The upload needs the YAML config file in the field 'config'.");
        else if (!ConfigExtensions.Contains(Path.GetExtension(config.FileName).ToLowerInvariant()))
            (problemParam, problem) = ("config", $"The config '{config.FileName}' must be a .yaml or .yml file.");
        else if (upload.Files.FirstOrDefault(f => f.Field is not ("config" or "dataset")) is { } extra)
            (problemParam, problem) = (extra.Field, $"Unexpected file field '{extra.Field}'; use 'config' (YAML) and 'dataset' (optional).");
        else if (dataset != null && !DatasetExtensions.Contains(Path.GetExtension(dataset.FileName).ToLowerInvariant()))
            (problemParam, problem) = ("dataset", $"The dataset '{dataset.FileName}' must be one of {string.Join(", ", DatasetExtensions.Order())}.");
        else if (config.Bytes > MaxConfigBytes)
            (problemParam, problem, status) = ("config", $"The config '{config.FileName}' is {config.Bytes:N0} bytes; a config is a few kilobytes (limit {MaxConfigBytes:N0} bytes).", 413);
        if (problem != null)
        {
            foreach (var file in upload.Files) DeleteUpload(file);
            return Fail(status == 413
                ? ApiProblems.Problem(413, "Upload too large", problem, problemParam, "request_too_large")
                : ApiProblems.Invalid(problemParam!, problem));
        }
        var yaml = await File.ReadAllTextAsync(config!.FullPath, ct);
        var overrides = upload.Fields.TryGetValue("overrides", out var lines)
            ? lines.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [];
        return new ReadResult(new JobSubmission(yaml, upload.Fields.GetValueOrDefault("name") ?? name, [.. overrides, .. set ?? []], dataset), null, upload.Files);
    }

    static void DeleteUpload(StoredUpload upload)
    {
        var folder = Path.GetDirectoryName(upload.FullPath);
        if (folder != null && Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    static ReadResult Fail(ProblemHttpResult problem) => new(null, problem);
}
