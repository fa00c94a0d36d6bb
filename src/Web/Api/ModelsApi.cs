using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Sft.Training.Models;
using Sft.Web.Api.Models;
using Sft.Web.Storage;

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

    public static Ok<ListDto<ModelDto>> ListModels(DataFolder folder)
    {
        var builtins = new Builtins(folder.Root);
        var list = new List<ModelDto>();
        foreach (var name in ModelPresets.Names)
        {
            var path = Path.Combine(builtins.ModelsDirectory, name);
            var preset = ModelPresets.Get(name);
            list.Add(Describe(name, "builtin", $"builtin:{name}", path, preset.Description));
        }
        if (Directory.Exists(builtins.ModelsDirectory))
            foreach (var dir in Directory.GetDirectories(builtins.ModelsDirectory).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(dir);
                if (ModelPresets.Names.Contains(name) || !File.Exists(Path.Combine(dir, "config.json"))) continue;
                list.Add(Describe(name, "local", folder.ToStored(dir), dir, null));
            }
        return TypedResults.Ok(new ListDto<ModelDto>(list, false));
    }

    public static async Task<Created<ModelDto>> CreateDemoModel(DataFolder folder, CancellationToken ct)
    {
        var builtins = new Builtins(folder.Root);
        var path = await Task.Run(() => builtins.ResolveModel(DemoModel)!, ct);
        return TypedResults.Created("/api/v1/models", Describe(DemoModel, "builtin", $"builtin:{DemoModel}", path, ModelPresets.Get(DemoModel).Description));
    }

    static ModelDto Describe(string name, string source, string loadCheckpoint, string path, string? description)
    {
        var config = Path.Combine(path, "config.json");
        if (!File.Exists(config)) return new ModelDto(name, name, source, loadCheckpoint, false, null, null, null, null, null, description);
        string? type = null;
        int? layers = null, hidden = null;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(config));
            var root = json.RootElement;
            if (root.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String) type = t.GetString();
            if (root.TryGetProperty("num_hidden_layers", out var l) && l.TryGetInt32(out var n)) layers = n;
            if (root.TryGetProperty("hidden_size", out var h) && h.TryGetInt32(out var d)) hidden = d;
        }
        catch (JsonException) { description = $"config.json is not valid JSON; the folder cannot be loaded. {description}"; }
        var size = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        return new ModelDto(name, name, source, loadCheckpoint, true, path, size, type, layers, hidden, description);
    }
}
