namespace Sft.Web.Uploads;

/// <summary>What an upload endpoint accepts: where the files go, which names and sizes, and a content check that
/// runs on each file before anything is stored.</summary>
public sealed record UploadSpec(string Category, IReadOnlySet<string> AllowedExtensions)
{
    public int MaxFiles { get; init; } = 8;
    public bool RequireFile { get; init; } = true;

    /// <summary>The most bytes of all files together; null for <see cref="UploadOptions.MaxUploadBytes"/>.</summary>
    public long? MaxBytes { get; init; }

    /// <summary>Looks into a staged file; returns why it is not acceptable, or null.</summary>
    public Func<StagedUpload, CancellationToken, Task<string?>>? Validate { get; init; }
}

/// <summary>A file received and written to the staging folder, not yet stored.</summary>
public sealed record StagedUpload(string Field, string FileName, string StagedPath, long Bytes, string Sha256);

/// <summary>A file stored under <c>data/uploads/{category}/...</c>; <see cref="StoredPath"/> is relative to the data folder.</summary>
public sealed record StoredUpload(string Field, string FileName, string FullPath, string StoredPath, long Bytes, string Sha256);

/// <summary>The outcome of reading an upload: the plain fields and stored files, or the problem to answer.</summary>
public sealed record UploadResult(
    IReadOnlyDictionary<string, string> Fields, IReadOnlyList<StoredUpload> Files,
    Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Problem)
{
    public bool Succeeded => Problem == null;
}
