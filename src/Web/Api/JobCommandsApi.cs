using System.Text;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Sft.Data.Persistence;
using Sft.Training.Config;
using Sft.Web.Api.Models;
using Sft.Web.Jobs;

namespace Sft.Web.Api;

/// <summary>Writing jobs: submit a config (YAML or JSON), cancel, resume, clone; and validating a config without a job.</summary>
public static class JobCommandsApi
{
    const int MaxConfigChars = 1 << 20;

    public static IEndpointRouteBuilder MapJobCommandsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/api/v1/jobs").WithTags("Jobs");
        jobs.MapPost("/", SubmitJob).WithName(nameof(SubmitJob))
            .WithSummary("Create a job from a config: application/yaml body, or JSON {config_yaml, name, overrides}. 400 names every bad key with its line.");
        jobs.MapPost("/{id}/cancel", CancelJob).WithName(nameof(CancelJob)).WithSummary("Stop a job: a running one saves its last step first.");
        jobs.MapPost("/{id}/resume", ResumeJob).WithName(nameof(ResumeJob)).WithSummary("Queue a cancelled or failed job again; it continues from its newest checkpoint.");
        jobs.MapPost("/{id}/clone", CloneJob).WithName(nameof(CloneJob)).WithSummary("A new job from this one's config, optionally edited.");
        app.MapPost("/api/v1/configs/validate", ValidateConfig).WithTags("Configs").WithName(nameof(ValidateConfig))
            .WithSummary("Validate a config: errors, warnings, ignored keys and the memory estimate; creates nothing.");
        return app;
    }

    public sealed record SubmitRequest(
        [property: JsonPropertyName("config_yaml")] string? ConfigYaml,
        [property: JsonPropertyName("name")] string? Name,
        [property: JsonPropertyName("overrides")] IReadOnlyList<string>? Overrides);

    public static async Task<Results<Created<JobDto>, ProblemHttpResult>> SubmitJob(HttpRequest request, JobService jobs, CancellationToken ct)
    {
        var (submission, problem) = await ReadSubmissionAsync(request, ct);
        if (problem != null) return problem;
        var result = await jobs.SubmitAsync(submission!, ct);
        if (result.Job == null) return ConfigProblem(result.Validation);
        return TypedResults.Created($"/api/v1/jobs/{result.Job.Id}", JobDto.From(result.Job));
    }

    public static async Task<Results<Ok<ValidationDto>, ProblemHttpResult>> ValidateConfig(HttpRequest request, JobService jobs, CancellationToken ct)
    {
        var (submission, problem) = await ReadSubmissionAsync(request, ct);
        if (problem != null) return problem;
        return TypedResults.Ok(ValidationDto.From(jobs.Validate(submission!.ConfigYaml, submission.Overrides).Validation));
    }

    public static async Task<Results<Ok<JobDto>, ProblemHttpResult>> CancelJob(string id, JobService jobs, CancellationToken ct) =>
        await jobs.CancelAsync(id, ct) is { } job ? TypedResults.Ok(JobDto.From(job)) : ApiProblems.NotFound("job", id);

    public static async Task<Results<Ok<JobDto>, ProblemHttpResult>> ResumeJob(string id, JobService jobs, CancellationToken ct)
    {
        var (job, problem) = await jobs.ResumeAsync(id, ct);
        if (job == null) return ApiProblems.NotFound("job", id);
        return problem == null ? TypedResults.Ok(JobDto.From(job))
            : ApiProblems.Problem(StatusCodes.Status409Conflict, "Conflict", problem, "id", "invalid_state");
    }

    public static async Task<Results<Created<JobDto>, ProblemHttpResult>> CloneJob(string id, HttpRequest request, JobService jobs, CancellationToken ct)
    {
        SubmitRequest? edits = null;
        if (request.ContentLength > 0) edits = await request.ReadFromJsonAsync<SubmitRequest>(ct);
        var result = await jobs.CloneAsync(id, edits?.ConfigYaml, edits?.Name, ct);
        if (result == null) return ApiProblems.NotFound("job", id);
        if (result.Job == null) return ConfigProblem(result.Validation);
        return TypedResults.Created($"/api/v1/jobs/{result.Job.Id}", JobDto.From(result.Job));
    }

    static async Task<(JobSubmission?, ProblemHttpResult?)> ReadSubmissionAsync(HttpRequest request, CancellationToken ct)
    {
        var type = request.ContentType ?? "";
        if (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            SubmitRequest? body;
            try { body = await request.ReadFromJsonAsync<SubmitRequest>(ct); }
            catch (System.Text.Json.JsonException e) { return (null, ApiProblems.Invalid("body", $"The JSON body is malformed: {e.Message}")); }
            if (string.IsNullOrWhiteSpace(body?.ConfigYaml))
                return (null, ApiProblems.Invalid("config_yaml", "config_yaml is required: the job's YAML config as a string."));
            if (body.ConfigYaml.Length > MaxConfigChars)
                return (null, ApiProblems.Invalid("config_yaml", $"config_yaml is {body.ConfigYaml.Length:N0} characters; the limit is {MaxConfigChars:N0}."));
            return (new JobSubmission(body.ConfigYaml, body.Name, body.Overrides ?? []), null);
        }
        if (type.StartsWith("application/yaml", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/x-yaml", StringComparison.OrdinalIgnoreCase)
            || type.StartsWith("text/yaml", StringComparison.OrdinalIgnoreCase) || type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var buffer = new char[MaxConfigChars + 1];
            var length = await reader.ReadBlockAsync(buffer, ct);
            if (length > MaxConfigChars) return (null, ApiProblems.Invalid("body", $"The config is longer than {MaxConfigChars:N0} characters."));
            if (length == 0) return (null, ApiProblems.Invalid("body", "The body is empty: send the job's YAML config."));
            var name = request.Query["name"].FirstOrDefault();
            return (new JobSubmission(new string(buffer, 0, length), name, request.Query["set"].Where(s => s != null).Select(s => s!).ToList()), null);
        }
        return (null, ApiProblems.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
            $"Send the config as application/yaml, or as JSON {{\"config_yaml\": ...}} (got '{type}').", "Content-Type", "unsupported_media_type"));
    }

    /// <summary>400 with every error keyed by its config path, each message naming file, line and column.</summary>
    static ProblemHttpResult ConfigProblem(ValidationResult validation)
    {
        var first = validation.Errors[0];
        var errors = validation.Errors.GroupBy(e => string.IsNullOrEmpty(e.Path) ? "config_yaml" : e.Path)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ToString()).ToArray());
        var extensions = new Dictionary<string, object?>
        {
            ["code"] = "invalid_config",
            ["param"] = string.IsNullOrEmpty(first.Path) ? "config_yaml" : first.Path,
            ["errors"] = errors,
            ["issues"] = ValidationDto.From(validation).Issues,
        };
        return TypedResults.Problem(detail: $"The config has {validation.Errors.Count} error(s); the first: {first}", statusCode: 400,
            title: "Invalid config", extensions: extensions);
    }
}

/// <summary>A config's validation as JSON: every issue with its place, and the memory estimate.</summary>
public sealed record ValidationDto(
    [property: JsonPropertyName("valid")] bool Valid,
    [property: JsonPropertyName("issues")] IReadOnlyList<ConfigIssueDto> Issues,
    [property: JsonPropertyName("memory_estimate")] string? MemoryEstimate,
    [property: JsonPropertyName("memory_bytes")] long? MemoryBytes)
{
    public static ValidationDto From(ValidationResult v) => new(v.IsValid,
        v.Errors.Concat(v.Warnings).Concat(v.Ignored).Select(ConfigIssueDto.From).ToList(), v.Memory?.Format(), v.Memory?.TotalBytes);
}

public sealed record ConfigIssueDto(
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("line")] int Line,
    [property: JsonPropertyName("column")] int Column,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("hint")] string? Hint)
{
    public static ConfigIssueDto From(ConfigIssue i) =>
        new(i.Severity.ToString().ToLowerInvariant(), i.Path, i.Line, i.Column, i.Message, i.Hint);
}
