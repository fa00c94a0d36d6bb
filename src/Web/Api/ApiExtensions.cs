using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using Sft.Data.Persistence;
using Sft.Web.Live;

namespace Sft.Web.Api;

public static class ApiExtensions
{
    /// <summary>snake_case JSON, problem details for every error (binding failures included), the OpenAPI document.</summary>
    public static IServiceCollection AddSftApi(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(o => EventJson.Configure(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddSingleton<Datasets.DatasetCatalog>();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "SFT Studio API";
            document.Info.Description = "Fine-tuning jobs, their metrics, events and checkpoints. Authenticate with an API key: " +
                                        "'Authorization: Bearer sft_...'.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (sft_...) from POST /api/v1/api-keys or 'Sft.Web create-api-key'.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
            return Task.CompletedTask;
        }));
        return services;
    }

    /// <summary>The REST API, its OpenAPI document at /openapi/v1.json and the reference page at /api/docs (all behind auth),
    /// and the anonymous /health.</summary>
    public static IEndpointRouteBuilder MapSftApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", Health).AllowAnonymous().ExcludeFromDescription();
        app.MapJobsApi();
        app.MapCheckpointsApi();
        app.MapConfigsApi();
        app.MapModelsApi();
        app.MapDatasetsApi();
        app.MapApiKeysApi();
        app.MapNodesApi();
        app.MapOpenApi().RequireAuthorization();
        app.MapScalarApiReference("/api/docs", o => o.WithTitle("SFT Studio API").WithOpenApiRoutePattern("/openapi/{documentName}.json"))
            .RequireAuthorization();
        return app;
    }

    /// <summary>Up when the app database answers.</summary>
    public static async Task<Results<Ok<HealthDto>, JsonHttpResult<HealthDto>>> Health(IDbContextFactory<SftDbContext> dbFactory, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Database.CanConnectAsync(ct)
            ? TypedResults.Ok(new HealthDto("ok"))
            : TypedResults.Json(new HealthDto("unhealthy: the app database does not answer"), statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    public sealed record HealthDto(string Status);
}
