namespace Sft.Data.Datasets.Hub;

/// <summary>A dataset repository at one commit: its files (paths relative to the repo root).</summary>
/// <param name="FromCache">True when the listing came from the local cache (offline), which only knows downloaded files.</param>
public sealed record HubDatasetInfo(string Id, string Sha, IReadOnlyList<HubFile> Files, bool Gated, bool Private, bool FromCache);

/// <summary>One file of a repository; <paramref name="Size"/> when the Hub reported it.</summary>
public sealed record HubFile(string Path, long? Size);

/// <summary>Download progress for the UI: bytes of <paramref name="Path"/> on disk so far, of <paramref name="BytesTotal"/>.</summary>
public sealed record DownloadProgress(string RepoId, string Path, long BytesDone, long? BytesTotal);

/// <summary>What a HEAD on a file's resolve URL tells: the commit, the blob's etag, its size and where its bytes are.</summary>
internal sealed record HubFileMetadata(string Commit, string ETag, long? Size, Uri DownloadUri);
