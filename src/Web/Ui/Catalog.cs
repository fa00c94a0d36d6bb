using Microsoft.EntityFrameworkCore;
using Sft.Data.Datasets.Sources;
using Sft.Data.Persistence;
using Sft.Training.Models;
using Sft.Web.Storage;

namespace Sft.Web.Ui;

/// <summary>A model the pickers offer: a <c>builtin:</c> preset or a Hugging Face folder under <c>{data}/models</c>.</summary>
public sealed record ModelChoice(string Reference, string Label, string? Folder, bool Exists);

/// <summary>A model folder's config.json facts (strings as written there) and its size on disk.</summary>
public sealed record ModelFacts(string Architecture, string? HiddenSize, string? Layers, string? VocabSize, string? Dtype, long Bytes,
    string? ModelType = null, string? Problem = null);

/// <summary>A dataset the pickers offer: a built-in demo set or a dataset row (uploaded, imported).</summary>
public sealed record DatasetChoice(string Reference, string Label, string Source, string? LocalPath, long? Rows, string Status);

/// <summary>The models and datasets this server can train with.</summary>
public sealed class Catalog(DataFolder folder, IDbContextFactory<SftDbContext> dbFactory)
{
    public IReadOnlyList<ModelChoice> Models()
    {
        var builtins = new Builtins(folder.Root);
        var list = ModelPresets.Names.Order(StringComparer.Ordinal).Select(name =>
        {
            var dir = Path.Combine(builtins.ModelsDirectory, name);
            return new ModelChoice("builtin:" + name, name + " (built in)", dir, File.Exists(Path.Combine(dir, "config.json")));
        }).ToList();
        if (Directory.Exists(builtins.ModelsDirectory))
            foreach (var dir in Directory.EnumerateDirectories(builtins.ModelsDirectory).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(dir);
                if (ModelPresets.Names.Contains(name) || !File.Exists(Path.Combine(dir, "config.json"))) continue;
                list.Add(new ModelChoice(dir, name, dir, true));
            }
        return list;
    }

    /// <summary>
    /// Creates a built-in model's folder (seeded weights, tokenizer, config) off the caller's thread, or returns the
    /// existing one. Unknown names are an <see cref="ArgumentException"/> naming the presets.
    /// </summary>
    public Task<string> CreateBuiltinModelAsync(string name) => Task.Run(() =>
        new Builtins(folder.Root).ResolveModel(name)
        ?? throw new ArgumentException($"'{name}' is not a built-in model; the presets are {string.Join(", ", ModelPresets.Names.Order(StringComparer.Ordinal))}."));

    /// <summary>What a model folder's config.json says (architecture, sizes) and its size on disk.</summary>
    public static ModelFacts? Describe(string folder)
    {
        var config = Path.Combine(folder, "config.json");
        if (!File.Exists(config)) return null;
        System.Text.Json.JsonDocument doc;
        try { doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(config)); }
        catch (System.Text.Json.JsonException e)
        {
            var problem = $"config.json is not valid JSON ({e.Message})";
            return new ModelFacts(problem, null, null, null, null, 0, Problem: problem);
        }
        using var _ = doc;
        var root = doc.RootElement;
        string? Text(string key) => root.TryGetProperty(key, out var v) ? v.ToString() : null;
        var arch = root.TryGetProperty("architectures", out var a) && a.ValueKind == System.Text.Json.JsonValueKind.Array && a.GetArrayLength() > 0
            ? a[0].GetString() : Text("model_type");
        var bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        return new ModelFacts(arch ?? "unknown", Text("hidden_size"), Text("num_hidden_layers"), Text("vocab_size"), Text("torch_dtype"), bytes,
            Text("model_type"));
    }

    public async Task<IReadOnlyList<DatasetChoice>> DatasetsAsync(CancellationToken ct = default)
    {
        var list = BuiltinDatasets.Names.Select(n => new DatasetChoice("builtin:" + n, n + " (built in)", "builtin", null, null, "ready")).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Datasets.AsNoTracking().OrderByDescending(d => d.CreatedAt).ToListAsync(ct);
        list.AddRange(rows.Where(d => d.Source != "builtin").Select(d => new DatasetChoice(
            d.LocalPath is { } p ? folder.PathOf(p) : d.HubId ?? d.Id, d.Name, d.Source,
            d.LocalPath is { } lp ? folder.PathOf(lp) : null, d.Rows, d.Status)));
        return list;
    }

    /// <summary>A dataset row (an upload or a Hub import, with its status, bytes so far and error), or null.</summary>
    public async Task<DatasetEntity?> DatasetAsync(string id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
    }
}
