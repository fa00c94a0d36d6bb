using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Sft.Web.Api.Models;
using Sft.Web.Jobs;

namespace Sft.Web.Api;

/// <summary>Configs: validate one as a job would run it (errors, warnings, ignored keys, memory estimate) without creating a job.</summary>
public static class ConfigsApi
{
    public static IEndpointRouteBuilder MapConfigsApi(this IEndpointRouteBuilder app)
    {
        var configs = app.MapGroup("/api/v1/configs").WithTags("Configs");
        configs.MapPost("/validate", ValidateConfig).WithName(nameof(ValidateConfig))
            .WithSummary("Validate a config (application/yaml body or JSON {config_yaml, overrides}); 200 with the findings whether valid or not.");
        return app;
    }

    public static async Task<Results<Ok<ValidationDto>, ProblemHttpResult>> ValidateConfig(
        HttpContext http, JobService jobs, CancellationToken ct)
    {
        string? yaml;
        IReadOnlyList<string> overrides = [];
        if (http.Request.HasJsonContentType())
        {
            CreateJobRequest? body;
            try { body = await http.Request.ReadFromJsonAsync<CreateJobRequest>(ct); }
            catch (JsonException e) { return ApiProblems.Invalid("body", $"The JSON body is malformed: {e.Message}"); }
            yaml = body?.ConfigYaml;
            overrides = body?.Overrides ?? [];
        }
        else
        {
            using var reader = new StreamReader(http.Request.Body);
            yaml = await reader.ReadToEndAsync(ct);
        }
        if (string.IsNullOrWhiteSpace(yaml))
            return ApiProblems.Invalid("config_yaml", "Send the config to validate: an application/yaml body or JSON {\"config_yaml\": ...}.");
        return TypedResults.Ok(ValidationDto.From(await jobs.ValidateAsync(yaml, overrides, ct)));
    }
}
