using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sft.Data.Tests.Datasets.Hub;

/// <summary>A dataset repository the fake Hub serves. Files over <see cref="LfsThreshold"/> bytes, and parquet files, are served like LFS files.</summary>
public sealed record FakeRepo(string Id, string Sha, IReadOnlyDictionary<string, byte[]> Files, bool Gated = false)
{
    public const int LfsThreshold = 100_000;

    public bool IsLfs(string path) => path.EndsWith(".parquet", StringComparison.Ordinal) || Files[path].Length > LfsThreshold;
}

/// <summary>One request the fake Hub saw.</summary>
public sealed record LoggedRequest(string Method, string Path, string? Range, string? Authorization);

/// <summary>
/// A Kestrel server on loopback that answers like the Hugging Face Hub: <c>/api/datasets/{id}[/revision/{rev}]</c>
/// with sha and siblings; <c>/datasets/{id}/resolve/{rev}/{path}</c> with <c>X-Repo-Commit</c>, <c>ETag</c>
/// (git blob sha1) for small files, and a 302 to <c>/cdn/{sha256}</c> with <c>X-Linked-Etag</c>/<c>X-Linked-Size</c>
/// for LFS files; Range requests (206); 401/403 for a gated repo without the right token; 404 with
/// <c>X-Error-Code</c> for missing repos, revisions and files. <see cref="DropNextDownload"/> cuts a download mid-body.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public const string GoodToken = "hf_fake_good_token";

    private readonly WebApplication _app;
    private readonly Dictionary<string, FakeRepo> _repos;
    private readonly ConcurrentDictionary<string, int> _drops = new();

    private FakeHub(WebApplication app, IEnumerable<FakeRepo> repos)
    {
        _app = app;
        _repos = repos.ToDictionary(r => r.Id);
    }

    public string Endpoint { get; private set; } = "";
    public ConcurrentQueue<LoggedRequest> Requests { get; } = new();

    /// <summary>The CDN GETs (actual downloads of LFS content) seen so far.</summary>
    public int CdnDownloads => Requests.Count(r => r.Method == "GET" && r.Path.StartsWith("/cdn/", StringComparison.Ordinal));

    public static async Task<FakeHub> StartAsync(params FakeRepo[] repos)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var hub = new FakeHub(app, repos);
        app.Run(hub.HandleAsync);
        await app.StartAsync();
        hub.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return hub;
    }

    /// <summary>The next <paramref name="times"/> downloads of a file send half of what is left, then drop the connection.</summary>
    public void DropNextDownload(string repoId, string path, int times = 1) => _drops[Sha256(_repos[repoId].Files[path])] = times;

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Git's blob id: sha1 of "blob {size}\0" + content, the ETag of non-LFS files on the Hub.</summary>
    public static string GitBlobSha(byte[] data) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {data.Length}\0"), .. data]));

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        Requests.Enqueue(new LoggedRequest(ctx.Request.Method, path, Header(ctx, "Range"), Header(ctx, "Authorization")));
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();

        if (parts is ["cdn", var hash]) { await ServeCdnAsync(ctx, hash); return; }
        if (parts is ["api", "datasets", var org, var name, ..])
        {
            var rev = parts.Length >= 6 && parts[4] == "revision" ? parts[5] : "main";
            if (Authorize(ctx, $"{org}/{name}", rev, null) is { } repo) await InfoAsync(ctx, repo);
            return;
        }
        if (parts is ["datasets", var o, var n, "resolve", var revision, ..] && parts.Length > 5)
        {
            var file = string.Join('/', parts[5..]);
            if (Authorize(ctx, $"{o}/{n}", revision, file) is { } repo) await ResolveAsync(ctx, repo, file);
            return;
        }
        ctx.Response.StatusCode = 404;
    }

    /// <summary>The repo if the request may see it; otherwise writes the Hub's error answer and returns null.</summary>
    private FakeRepo? Authorize(HttpContext ctx, string id, string revision, string? file)
    {
        if (!_repos.TryGetValue(id, out var repo)) return Fail(ctx, 404, "RepoNotFound", "Repository not found");
        if (repo.Gated)
        {
            var auth = Header(ctx, "Authorization");
            if (auth is null) return Fail(ctx, 401, "GatedRepo", $"Access to dataset {id} is restricted. You must be authenticated to access it.");
            if (auth != $"Bearer {GoodToken}") return Fail(ctx, 403, "GatedRepo", $"Access to dataset {id} is restricted and you are not in the authorized list.");
        }
        if (revision != "main" && revision != repo.Sha) return Fail(ctx, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
        if (file is not null && !repo.Files.ContainsKey(file)) return Fail(ctx, 404, "EntryNotFound", $"{file} does not exist on \"{revision}\"");
        return repo;
    }

    private static FakeRepo? Fail(HttpContext ctx, int status, string code, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.Headers["X-Error-Code"] = code;
        ctx.Response.Headers["X-Error-Message"] = message;
        return null;
    }

    private static Task InfoAsync(HttpContext ctx, FakeRepo repo)
    {
        var body = JsonSerializer.Serialize(new
        {
            id = repo.Id,
            sha = repo.Sha,
            @private = false,
            gated = repo.Gated ? (object)"manual" : false,
            siblings = repo.Files.Keys.Order(StringComparer.Ordinal).Select(f => new { rfilename = f, size = repo.Files[f].Length }),
        });
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body);
    }

    private async Task ResolveAsync(HttpContext ctx, FakeRepo repo, string file)
    {
        var data = repo.Files[file];
        ctx.Response.Headers["X-Repo-Commit"] = repo.Sha;
        if (repo.IsLfs(file))
        {
            var sha256 = Sha256(data);
            ctx.Response.StatusCode = 302;
            ctx.Response.Headers.Location = $"{Endpoint}/cdn/{sha256}";
            ctx.Response.Headers.ETag = $"\"{GitBlobSha(Encoding.UTF8.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {data.Length}\n"))}\"";
            ctx.Response.Headers["X-Linked-Etag"] = $"\"{sha256}\"";
            ctx.Response.Headers["X-Linked-Size"] = data.Length.ToString();
            return;
        }
        ctx.Response.Headers.ETag = $"\"{GitBlobSha(data)}\"";
        await ServeBytesAsync(ctx, data, drop: false);
    }

    private async Task ServeCdnAsync(HttpContext ctx, string hash)
    {
        var data = _repos.Values.SelectMany(r => r.Files.Values).FirstOrDefault(d => Sha256(d) == hash);
        if (data is null) { ctx.Response.StatusCode = 404; return; }
        bool drop = ctx.Request.Method == "GET" && _drops.TryGetValue(hash, out var left) && left > 0 && _drops.TryUpdate(hash, left - 1, left);
        await ServeBytesAsync(ctx, data, drop);
    }

    private static async Task ServeBytesAsync(HttpContext ctx, byte[] data, bool drop)
    {
        long start = 0;
        var range = Header(ctx, "Range");
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            start = long.Parse(range["bytes=".Length..].Split('-')[0]);
            if (start >= data.Length)
            {
                ctx.Response.StatusCode = 416;
                ctx.Response.Headers.ContentRange = $"bytes */{data.Length}";
                return;
            }
            ctx.Response.StatusCode = 206;
            ctx.Response.Headers.ContentRange = $"bytes {start}-{data.Length - 1}/{data.Length}";
        }
        ctx.Response.Headers.AcceptRanges = "bytes";
        ctx.Response.ContentLength = data.Length - start;
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        if (drop)
        {
            int half = (int)(data.Length - start) / 2;
            await ctx.Response.Body.WriteAsync(data.AsMemory((int)start, half));
            await ctx.Response.Body.FlushAsync();
            await Task.Delay(200); // let the first half reach the client before the reset
            ctx.Abort();
            return;
        }
        await ctx.Response.Body.WriteAsync(data.AsMemory((int)start));
    }

    private static string? Header(HttpContext ctx, string name) =>
        ctx.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
