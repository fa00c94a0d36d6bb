using Microsoft.AspNetCore.Http.HttpResults;
using Sft.Training.Models;
using Sft.Web.Api.Models;
using Sft.Web.Storage;
using Sft.Web.Ui;

namespace Sft.Web.Api;

/// <summary>Models: the folders under data/models and the built-in presets; create the demo model.</summary>
public static class ModelsApi
{
    public const string DemoModel = "demo-tiny";

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/v1/models").WithTags("Models");
        models.MapGet("/", ListModels).WithName(nameof(ListModels)).WithSummary("Model folders under data/models and the built-in presets.");
        models.MapPost("/demo", CreateDemoModel).WithName(nameof(CreateDemoModel))
            .WithSummary($"Create the demo model (builtin:{DemoModel}) under data/models if it is not there yet.");
        return app;
    }

    /// <summary>The same list the dashboard's pickers show (<see cref="Catalog.Models"/>), described from config.json.</summary>
    public static Ok<ListDto<ModelDto>> ListModels(Catalog catalog, DataFolder folder)
    {
        var list = catalog.Models().Select(m =>
        {
            var preset = m.Reference.StartsWith(BuiltinPrefix, StringComparison.Ordinal) ? m.Reference[BuiltinPrefix.Length..] : null;
            return preset != null
                ? Describe(preset, "builtin", m.Reference, m.Folder!, ModelPresets.Get(preset).Description)
                : Describe(m.Label, "local", folder.ToStored(m.Folder!), m.Folder!, null);
        }).ToList();
        return TypedResults.Ok(new ListDto<ModelDto>(list, false));
    }

    public static async Task<Created<ModelDto>> CreateDemoModel(Catalog catalog, CancellationToken ct)
    {
        var path = await catalog.CreateBuiltinModelAsync(DemoModel).WaitAsync(ct);
        return TypedResults.Created("/api/v1/models", Describe(DemoModel, "builtin", BuiltinPrefix + DemoModel, path, ModelPresets.Get(DemoModel).Description));
    }

    const string BuiltinPrefix = "builtin:";

    static ModelDto Describe(string name, string source, string loadCheckpoint, string path, string? description)
    {
        if (Catalog.Describe(path) is not { } facts) return new ModelDto(name, name, source, loadCheckpoint, false, null, null, null, null, null, description);
        if (facts.Problem != null) description = $"{facts.Problem}; the folder cannot be loaded. {description}";
        return new ModelDto(name, name, source, loadCheckpoint, true, path, facts.Bytes, facts.ModelType,
            int.TryParse(facts.Layers, out var layers) ? layers : null, int.TryParse(facts.HiddenSize, out var hidden) ? hidden : null, description);
    }
}
