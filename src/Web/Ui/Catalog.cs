using Microsoft.EntityFrameworkCore;
using Sft.Data.Datasets.Sources;
using Sft.Data.Persistence;
using Sft.Training.Models;
using Sft.Web.Storage;

namespace Sft.Web.Ui;

/// <summary>A model the pickers offer: a <c>builtin:</c> preset or a Hugging Face folder under <c>{data}/models</c>.</summary>
public sealed record ModelChoice(string Reference, string Label, string? Folder, bool Exists);

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
}
