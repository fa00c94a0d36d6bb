using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Sft.Data.Persistence;
using Sft.Web.Api.Models;
using Sft.Web.Storage;

namespace Sft.Web.Api;

/// <summary>A job's checkpoints: list, details with files, the folder as a streamed zip, single files with HTTP Range.
/// Folders come from checkpoint rows and must lie inside the data folder; file paths cannot leave them.</summary>
public static class CheckpointsApi
{
    static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static IEndpointRouteBuilder MapCheckpointsApi(this IEndpointRouteBuilder app)
    {
        var checkpoints = app.MapGroup("/api/v1/jobs/{id}/checkpoints").WithTags("Checkpoints");
        checkpoints.MapGet("/", ListCheckpoints).WithName(nameof(ListCheckpoints)).WithSummary("A job's checkpoints, newest step first; continue with after=<last step_number>.");
        checkpoints.MapGet("/{step:long}", GetCheckpoint).WithName(nameof(GetCheckpoint)).WithSummary("One checkpoint with its files.");
        checkpoints.MapGet("/{step:long}/download", DownloadCheckpoint).WithName(nameof(DownloadCheckpoint))
            .WithSummary("The checkpoint folder as a zip, streamed as it is read.");
        checkpoints.MapMethods("/{step:long}/files/{*path}", [HttpMethods.Get, HttpMethods.Head], GetCheckpointFile)
            .WithName(nameof(GetCheckpointFile)).WithSummary("One file of the checkpoint; supports Range, ETag and HEAD.");
        return app;
    }

    public static async Task<Results<Ok<ListDto<CheckpointDto>>, ProblemHttpResult>> ListCheckpoints(
        SftDbContext db, string id, [FromQuery] long? after, [FromQuery] int? limit, CancellationToken ct)
    {
        if (!ApiProblems.TryLimit(limit, 20, 100, out var take, out var problem)) return problem!;
        if (!await db.Jobs.AnyAsync(j => j.Id == id, ct)) return ApiProblems.NotFound("job", id);
        var query = db.Checkpoints.AsNoTracking().Where(c => c.JobId == id);
        if (after is { } afterStep) query = query.Where(c => c.Step < afterStep);
        var rows = await query.OrderByDescending(c => c.Step).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(new ListDto<CheckpointDto>(rows.Take(take).Select(c => CheckpointDto.From(c)).ToList(), rows.Count > take));
    }

    public static async Task<Results<Ok<CheckpointDto>, ProblemHttpResult>> GetCheckpoint(
        SftDbContext db, DataFolder folder, string id, long step, CancellationToken ct)
    {
        var (checkpoint, dir, problem) = await FindAsync(db, folder, id, step, ct);
        if (problem != null) return problem;
        var files = ListFiles(folder, dir!).Select(f => new CheckpointFileDto(f.EntryName, f.File.Length,
            $"/api/v1/jobs/{Uri.EscapeDataString(id)}/checkpoints/{step}/files/{string.Join('/', f.EntryName.Split('/').Select(Uri.EscapeDataString))}"))
            .ToList();
        return TypedResults.Ok(CheckpointDto.From(checkpoint!, files));
    }

    public static async Task<Results<ZipFolderResult, ProblemHttpResult>> DownloadCheckpoint(
        SftDbContext db, DataFolder folder, string id, long step, CancellationToken ct)
    {
        var (_, dir, problem) = await FindAsync(db, folder, id, step, ct);
        if (problem != null) return problem;
        return new ZipFolderResult(ListFiles(folder, dir!), $"{id}-step-{step}.zip");
    }

    public static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> GetCheckpointFile(
        SftDbContext db, DataFolder folder, string id, long step, string path, CancellationToken ct)
    {
        var (_, dir, problem) = await FindAsync(db, folder, id, step, ct);
        if (problem != null) return problem;
        var file = folder.ResolveFile(dir!, path, out var error);
        if (error != null) return ApiProblems.Invalid("path", $"Bad file path: {error}.");
        if (file == null) return ApiProblems.NotFound($"file in checkpoint {step} of job '{id}' at", path, "path");
        if (!ContentTypes.TryGetContentType(file.Name, out var contentType)) contentType = "application/octet-stream";
        var etag = new EntityTagHeaderValue(string.Create(CultureInfo.InvariantCulture, $"\"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\""));
        return TypedResults.PhysicalFile(file.FullName, contentType, fileDownloadName: null,
            lastModified: file.LastWriteTimeUtc, entityTag: etag, enableRangeProcessing: true);
    }

    /// <summary>The newest row for (job, step) and its folder, or the problem to answer.</summary>
    static async Task<(CheckpointEntity?, DirectoryInfo?, ProblemHttpResult?)> FindAsync(
        SftDbContext db, DataFolder folder, string id, long step, CancellationToken ct)
    {
        var checkpoint = await db.Checkpoints.AsNoTracking().Where(c => c.JobId == id && c.Step == step)
            .OrderByDescending(c => c.Id).FirstOrDefaultAsync(ct);
        if (checkpoint == null)
            return (null, null, await db.Jobs.AnyAsync(j => j.Id == id, ct)
                ? ApiProblems.NotFound($"checkpoint of job '{id}' at step", step.ToString(CultureInfo.InvariantCulture), "step")
                : ApiProblems.NotFound("job", id));
        var dir = folder.ResolveStoredDirectory(checkpoint.Path);
        if (dir == null)
            return (checkpoint, null, ApiProblems.Problem(StatusCodes.Status404NotFound, "Not found",
                $"The folder of checkpoint {step} of job '{id}' is gone (removed by retention?) or lies outside the data folder.",
                "step", "checkpoint_missing"));
        return (checkpoint, dir, null);
    }

    /// <summary>The regular files under a checkpoint folder, '/'-separated names, in order. Symbolic links are
    /// neither followed nor listed, so nothing outside the folder can be reached through one.</summary>
    public static List<(FileInfo File, string EntryName)> ListFiles(DataFolder folder, DirectoryInfo dir) =>
        dir.EnumerateFiles("*", new EnumerationOptions
            {
                RecurseSubdirectories = true,
                AttributesToSkip = FileAttributes.ReparsePoint,
                IgnoreInaccessible = true,
            })
            .Where(f => folder.ContainsReal(f.FullName))
            .Select(f => (f, Path.GetRelativePath(dir.FullName, f.FullName).Replace(Path.DirectorySeparatorChar, '/')))
            .OrderBy(f => f.Item2, StringComparer.Ordinal)
            .ToList();
}
