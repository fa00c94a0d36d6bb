using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Hub;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Data.Persistence;
using Sft.Web.Storage;

namespace Sft.Web.Datasets;

/// <summary>
/// The datasets the server knows: built-ins (id <c>builtin:NAME</c>), uploads and Hub imports (rows of the app
/// database, id <c>ds-</c> + 24 hex). Imports download in the background; their row shows the bytes done so far and
/// ends <c>ready</c> (with the row count) or <c>failed</c> (with the reason).
/// </summary>
public sealed class DatasetCatalog(
    IDbContextFactory<SftDbContext> dbFactory, DataFolder folder, TimeProvider clock, IHostApplicationLifetime lifetime, ILogger<DatasetCatalog> log)
{
    public const string BuiltinPrefix = "builtin:";

    public static string NewId() => "ds-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public HubClient CreateHubClient() => new(HubOptions.FromEnvironment() with { CacheDir = folder.PathOf("hub") });

    /// <summary>What the loader needs for a dataset id: the spec, or null when there is no such (ready) dataset.</summary>
    public async Task<(DatasetSpec? Spec, string? Problem)> SpecForAsync(string id, CancellationToken ct)
    {
        if (id.StartsWith(BuiltinPrefix, StringComparison.Ordinal))
        {
            var name = id[BuiltinPrefix.Length..];
            return new Builtins(folder.Root).ResolveDataset(name) is { } path ? (new DatasetSpec { Path = path }, null) : (null, null);
        }
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
        if (row == null) return (null, null);
        if (row.Status != "ready") return (null, $"Dataset {id} is {row.Status}{(row.Error == null ? "" : ": " + row.Error)}; it can be previewed once ready.");
        return row.Source == "hub"
            ? (new DatasetSpec { Path = row.HubId!, Revision = row.Revision }, null)
            : (new DatasetSpec { Path = Path.GetFullPath(row.LocalPath!, folder.Root) }, null);
    }

    /// <summary>Loads a local file's train split and counts its rows; a <see cref="DatasetException"/> says what is wrong.</summary>
    public static async Task<(long Rows, DatasetFormat Format)> InspectAsync(string path, CancellationToken ct)
    {
        var split = await new DatasetLoader().LoadSplitAsync(new DatasetSpec { Path = path }, ct: ct);
        var rows = await split.CountAsync(ct);
        return (rows, await split.DetectFormatAsync(ct));
    }

    /// <summary>Adds an <c>importing</c> row and downloads the Hub dataset in the background.</summary>
    public async Task<DatasetEntity> StartImportAsync(string hubId, string? revision, string? splitName, CancellationToken ct)
    {
        var row = new DatasetEntity
        {
            Id = NewId(), Name = hubId, Source = "hub", HubId = hubId, Revision = revision, Status = "importing",
            SizeBytes = 0, CreatedAt = clock.GetUtcNow(),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            db.Datasets.Add(row);
            await db.SaveChangesAsync(ct);
        }
        _ = Task.Run(() => ImportAsync(row.Id, new DatasetSpec { Path = hubId, Revision = revision, Split = splitName ?? "train" }, lifetime.ApplicationStopping));
        return row;
    }

    async Task ImportAsync(string id, DatasetSpec spec, CancellationToken ct)
    {
        try
        {
            using var hub = CreateHubClient();
            long lastWritten = 0;
            var progress = new Progress<DownloadProgress>(p =>
            {
                if (p.BytesDone - Interlocked.Read(ref lastWritten) < 1 << 20 && p.BytesDone != p.BytesTotal) return;
                Interlocked.Exchange(ref lastWritten, p.BytesDone);
                _ = UpdateAsync(id, d => d.SizeBytes = p.BytesDone);
            });
            var split = await new DatasetLoader(hub).LoadSplitAsync(spec, progress, ct);
            var rows = await split.CountAsync(ct);
            var format = await split.DetectFormatAsync(ct);
            var bytes = split.Files.Sum(f => f.LocalPath is { } p && File.Exists(p) ? new FileInfo(p).Length : 0);
            await UpdateAsync(id, d => { d.Status = "ready"; d.Rows = rows; d.Format = format.ToString().ToLowerInvariant(); d.SizeBytes = bytes; });
            log.LogInformation("Dataset {Id} imported from the Hub: {HubId}, {Rows} rows", id, spec.Path, rows);
        }
        catch (Exception e) when (e is DatasetException or HttpRequestException or IOException or OperationCanceledException or InvalidDataException)
        {
            log.LogWarning("Dataset {Id} ({HubId}) could not be imported: {Message}", id, spec.Path, e.Message);
            await UpdateAsync(id, d => { d.Status = "failed"; d.Error = e.Message; });
        }
    }

    async Task UpdateAsync(string id, Action<DatasetEntity> change)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        var row = await db.Datasets.FindAsync(id);
        if (row == null) return;
        change(row);
        await db.SaveChangesAsync();
    }
}
