using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Sft.Data.Datasets.Hub;

/// <summary>
/// Talks to the Hugging Face Hub (or a mirror at <c>HF_ENDPOINT</c>) about dataset repositories:
/// <see cref="GetDatasetInfoAsync"/> lists a revision's files, <see cref="DownloadFileAsync"/> fetches one
/// into the shared cache (resuming, verified) and returns its local path. Offline mode and network
/// failures fall back to the cache.
/// </summary>
public sealed class HubClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly BlobDownloader _downloader;

    public HubClient(HubOptions options, HttpMessageHandler? handler = null)
    {
        Options = options with { Endpoint = options.Endpoint.TrimEnd('/') };
        Cache = new HubCache(options.CacheDir);
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        { Timeout = TimeSpan.FromMinutes(2) };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("sft-studio/1.0");
        _downloader = new BlobDownloader(_http, Options, Cache, Authorize);
    }

    /// <summary>A client configured from the <c>HF_*</c> environment variables.</summary>
    public static HubClient FromEnvironment() => new(HubOptions.FromEnvironment());

    public HubOptions Options { get; }
    public HubCache Cache { get; }

    /// <summary>The commit and file list of a dataset at <paramref name="revision"/> (default <c>main</c>).</summary>
    public async Task<HubDatasetInfo> GetDatasetInfoAsync(string repoId, string? revision = null, CancellationToken ct = default)
    {
        HubIds.CheckedRepoId(repoId);
        var rev = revision ?? "main";
        if (Options.Offline)
            return FromCache(repoId, rev) ?? throw NotCached(repoId, rev, null, "offline mode (HF_HUB_OFFLINE=1) is on");

        var url = revision is null
            ? $"{Options.Endpoint}/api/datasets/{repoId}"
            : $"{Options.Endpoint}/api/datasets/{repoId}/revision/{Uri.EscapeDataString(revision)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        Authorize(request);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (Exception ex) when (IsNetworkFailure(ex, ct))
        {
            return FromCache(repoId, rev) ?? throw Unreachable(repoId, ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw HubErrors.From(response, Options, repoId, rev, null);
            var info = Parse(repoId, await response.Content.ReadAsStringAsync(ct), url);
            Cache.WriteRef(repoId, rev, info.Sha);
            return info;
        }
    }

    /// <summary>
    /// Makes <paramref name="path"/> of the dataset available locally and returns its path in the cache
    /// (<c>snapshots/{commit}/{path}</c>). A cached file is reused without downloading; a file
    /// downloaded earlier in part is resumed.
    /// </summary>
    public async Task<string> DownloadFileAsync(string repoId, string path, string? revision = null,
        IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        HubIds.CheckedRepoId(repoId);
        HubIds.CheckedPath(path);
        var rev = revision ?? "main";
        var cached = Cache.TryGetFile(repoId, path, rev);
        if (Options.Offline) return cached ?? throw NotCached(repoId, rev, path, "offline mode (HF_HUB_OFFLINE=1) is on");
        if (cached is not null && HubCache.IsCommit(rev)) return cached; // a commit never changes

        HubFileMetadata meta;
        try
        {
            meta = await HeadAsync(repoId, path, rev, ct);
        }
        catch (Exception ex) when (IsNetworkFailure(ex, ct))
        {
            return cached ?? throw Unreachable(repoId, ex);
        }
        Cache.WriteRef(repoId, rev, meta.Commit);
        var pointer = Cache.PointerPath(repoId, meta.Commit, path);
        if (File.Exists(pointer)) return pointer;

        var blob = Cache.BlobPath(repoId, meta.ETag);
        if (!File.Exists(blob)) await _downloader.DownloadAsync(repoId, path, meta, blob, progress, ct);
        HubCache.Link(blob, pointer);
        return pointer;
    }

    /// <summary>HEAD on the resolve URL: follows relative redirects (renamed repos), stops at an absolute one (the CDN).</summary>
    private async Task<HubFileMetadata> HeadAsync(string repoId, string path, string revision, CancellationToken ct)
    {
        var url = new Uri($"{Options.Endpoint}/datasets/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(path)}");
        for (int hop = 0; hop < 10; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, url);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            Authorize(request);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            int status = (int)response.StatusCode;
            var location = response.Headers.Location;
            if (status is >= 300 and < 400 && location is not null && !location.IsAbsoluteUri)
            {
                url = new Uri(url, location);
                continue;
            }
            if (status >= 400) throw HubErrors.From(response, Options, repoId, revision, path);

            var commit = HubErrors.Header(response, "X-Repo-Commit");
            var etag = NormalizeETag(HubErrors.Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? HubErrors.Header(response, "ETag"));
            if (commit is null || etag is null)
                throw new HubException(HubErrorKind.Server,
                    $"{Options.Endpoint} did not answer like the Hugging Face Hub: HEAD {url} had no X-Repo-Commit or ETag header. Check HF_ENDPOINT.", status);
            long? size = long.TryParse(HubErrors.Header(response, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength;
            var target = status is >= 300 and < 400 && location is not null ? location : url;
            return new HubFileMetadata(commit, etag, size, target);
        }
        throw new HubException(HubErrorKind.Server, $"too many redirects resolving '{path}' of dataset '{repoId}'.");
    }

    private HubDatasetInfo? FromCache(string repoId, string revision) =>
        Cache.ReadRef(repoId, revision) is { } commit && Cache.CachedFiles(repoId, commit) is { } files
            ? new HubDatasetInfo(repoId, commit, files, Gated: false, Private: false, FromCache: true)
            : null;

    private HubDatasetInfo Parse(string repoId, string json, string url)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var sha = root.TryGetProperty("sha", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : null;
            if (sha is null || !root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
                throw new HubException(HubErrorKind.Server, $"GET {url} answered without 'sha' and 'siblings'; check HF_ENDPOINT points at a Hugging Face Hub.");
            var files = siblings.EnumerateArray()
                .Select(f => new HubFile(
                    f.GetProperty("rfilename").GetString()!,
                    f.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number ? size.GetInt64() : null))
                .ToList();
            bool gated = root.TryGetProperty("gated", out var g) && g.ValueKind is JsonValueKind.String or JsonValueKind.True;
            bool isPrivate = root.TryGetProperty("private", out var p) && p.ValueKind == JsonValueKind.True;
            var id = root.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : repoId;
            return new HubDatasetInfo(id, sha, files, gated, isPrivate, FromCache: false);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new HubException(HubErrorKind.Server, $"GET {url} answered with JSON this client cannot read ({ex.Message}); check HF_ENDPOINT.", inner: ex);
        }
    }

    /// <summary>Sends the token only to the Hub itself, never to another host (a CDN gets signed URLs).</summary>
    private void Authorize(HttpRequestMessage request)
    {
        if (Options.Token is null || request.RequestUri is null) return;
        var endpoint = new Uri(Options.Endpoint);
        if (Uri.Compare(request.RequestUri, endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.Token);
    }

    private HubException NotCached(string repoId, string revision, string? path, string why) => new(HubErrorKind.NotCached,
        $"{why} and {(path is null ? $"dataset '{repoId}'" : $"file '{path}' of dataset '{repoId}'")} at revision '{revision}' is not in the cache " +
        $"({Cache.RepoFolder(repoId)}). Run once with network access (unset HF_HUB_OFFLINE) to download it, or point HF_HUB_CACHE at a cache that has it.");

    private HubException Unreachable(string repoId, Exception ex) => new(HubErrorKind.Network,
        $"cannot reach {Options.Endpoint} for dataset '{repoId}' ({ex.Message}) and it is not in the cache; check the network or HF_ENDPOINT.", inner: ex);

    private static bool IsNetworkFailure(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException || (ex is TaskCanceledException && !ct.IsCancellationRequested);

    internal static string? NormalizeETag(string? etag) =>
        etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"') is { Length: > 0 } tag ? tag : null;

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    public void Dispose() => _http.Dispose();
}
