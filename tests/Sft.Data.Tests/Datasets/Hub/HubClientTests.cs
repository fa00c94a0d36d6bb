using Sft.Data.Datasets.Hub;

namespace Sft.Data.Tests.Datasets.Hub;

public sealed class HubClientTests(FakeHubFixture fixture) : IClassFixture<FakeHubFixture>, IDisposable
{
    private readonly TempFolder _cache = new();

    private HubOptions Options(string? token = null, bool offline = false, int retries = 3) => new()
    {
        Endpoint = fixture.Hub.Endpoint,
        CacheDir = _cache.Path,
        Token = token,
        TokenPath = "/home/me/.cache/huggingface/token",
        Offline = offline,
        MaxRetries = retries,
        RetryDelay = TimeSpan.FromMilliseconds(10),
    };

    private List<LoggedRequest> RequestsSince(int count) => fixture.Hub.Requests.Skip(count).ToList();

    [Fact]
    public async Task Listing_returns_the_commit_and_files()
    {
        using var client = new HubClient(Options());

        var info = await client.GetDatasetInfoAsync(FakeHubFixture.AlpacaId);

        Assert.Equal(fixture.Alpaca.Sha, info.Sha);
        Assert.Equal([".gitattributes", "README.md", FakeHubFixture.AlpacaShard], info.Files.Select(f => f.Path));
        Assert.Equal(fixture.Alpaca.Files[FakeHubFixture.AlpacaShard].Length, info.Files[2].Size);
        Assert.False(info.FromCache);
        Assert.Equal(fixture.Alpaca.Sha, File.ReadAllText(Path.Combine(_cache.Path, "datasets--llm-wizard--alpaca-gpt4-data", "refs", "main")));
    }

    [Fact]
    public async Task Lfs_file_resolves_through_a_redirect_into_the_standard_cache_layout()
    {
        using var client = new HubClient(Options());
        var expected = fixture.Alpaca.Files[FakeHubFixture.AlpacaShard];
        var sha256 = FakeHub.Sha256(expected);
        int before = fixture.Hub.Requests.Count;

        var local = await client.DownloadFileAsync(FakeHubFixture.AlpacaId, FakeHubFixture.AlpacaShard);

        var repo = Path.Combine(_cache.Path, "datasets--llm-wizard--alpaca-gpt4-data");
        Assert.Equal(Path.Combine(repo, "snapshots", fixture.Alpaca.Sha, "data", "train-00000-of-00001.parquet"), local);
        Assert.Equal(Path.Combine("..", "..", "..", "blobs", sha256), new FileInfo(local).LinkTarget);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(repo, "blobs", sha256)));
        Assert.Equal(expected, File.ReadAllBytes(local));
        var requests = RequestsSince(before);
        Assert.Equal(("HEAD", $"/datasets/{FakeHubFixture.AlpacaId}/resolve/main/{FakeHubFixture.AlpacaShard}"), (requests[0].Method, requests[0].Path));
        Assert.Equal(("GET", $"/cdn/{sha256}"), (requests[1].Method, requests[1].Path));
        Assert.Equal(2, requests.Count);
    }

    [Fact]
    public async Task Small_file_is_served_directly_with_its_git_etag()
    {
        using var client = new HubClient(Options());

        var local = await client.DownloadFileAsync(FakeHubFixture.ChatId, "test.jsonl");

        var data = fixture.Chat.Files["test.jsonl"];
        Assert.Equal(data, File.ReadAllBytes(local));
        Assert.True(File.Exists(Path.Combine(_cache.Path, "datasets--demo--chat", "blobs", FakeHub.GitBlobSha(data))));
    }

    [Fact]
    public async Task Dropped_connection_is_resumed_with_a_range_request_in_the_same_call()
    {
        using var client = new HubClient(Options());
        var expected = fixture.Alpaca.Files[FakeHubFixture.AlpacaShard];
        fixture.Hub.DropNextDownload(FakeHubFixture.AlpacaId, FakeHubFixture.AlpacaShard);
        int before = fixture.Hub.Requests.Count;
        var progress = new List<DownloadProgress>();

        var local = await client.DownloadFileAsync(FakeHubFixture.AlpacaId, FakeHubFixture.AlpacaShard, progress: new SyncProgress(progress));

        Assert.Equal(expected, File.ReadAllBytes(local));
        var gets = RequestsSince(before).Where(r => r.Method == "GET").ToList();
        Assert.Equal(2, gets.Count);
        Assert.Null(gets[0].Range);
        // The second request asks for the rest: from the bytes that reached the disk before the drop.
        long resumedAt = long.Parse(gets[1].Range!["bytes=".Length..].TrimEnd('-'));
        Assert.InRange(resumedAt, 1, expected.Length / 2);
        Assert.Contains(progress, p => p.BytesDone == resumedAt);
        Assert.Equal(expected.Length, progress[^1].BytesDone);
        Assert.Equal(expected.Length, progress[^1].BytesTotal);
    }

    [Fact]
    public async Task Interrupted_download_keeps_its_partial_file_and_the_next_call_resumes_it()
    {
        var expected = fixture.Chat.Files["train.jsonl"];
        var sha256 = FakeHub.Sha256(expected);
        fixture.Hub.DropNextDownload(FakeHubFixture.ChatId, "train.jsonl");

        using (var impatient = new HubClient(Options(retries: 0)))
        {
            var ex = await Assert.ThrowsAsync<HubException>(() => impatient.DownloadFileAsync(FakeHubFixture.ChatId, "train.jsonl"));
            Assert.Equal(HubErrorKind.Network, ex.Kind);
            Assert.Matches(@"The \d+ bytes received are kept in .*\.incomplete; run again to resume from there", ex.Message);
        }
        var partial = Path.Combine(_cache.Path, "datasets--demo--chat", "blobs", sha256 + ".incomplete");
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, expected.Length / 2);

        int before = fixture.Hub.Requests.Count;
        using var client = new HubClient(Options());
        var local = await client.DownloadFileAsync(FakeHubFixture.ChatId, "train.jsonl");

        Assert.Equal(expected, File.ReadAllBytes(local));
        Assert.False(File.Exists(partial));
        var get = Assert.Single(RequestsSince(before), r => r.Method == "GET");
        Assert.Equal($"bytes={kept}-", get.Range);
    }

    [Fact]
    public async Task Cached_file_is_reused_without_downloading_again()
    {
        using var client = new HubClient(Options());
        var first = await client.DownloadFileAsync(FakeHubFixture.AlpacaId, FakeHubFixture.AlpacaShard);
        int downloads = fixture.Hub.CdnDownloads;
        int before = fixture.Hub.Requests.Count;

        var second = await client.DownloadFileAsync(FakeHubFixture.AlpacaId, FakeHubFixture.AlpacaShard);
        Assert.Equal(first, second);
        Assert.Equal(downloads, fixture.Hub.CdnDownloads);
        Assert.All(RequestsSince(before), r => Assert.Equal("HEAD", r.Method)); // only a metadata check

        before = fixture.Hub.Requests.Count;
        var pinned = await client.DownloadFileAsync(FakeHubFixture.AlpacaId, FakeHubFixture.AlpacaShard, fixture.Alpaca.Sha);
        Assert.Equal(first, pinned);
        Assert.Empty(RequestsSince(before)); // a commit never changes: no request at all
    }

    [Fact]
    public async Task Gated_dataset_without_token_says_to_accept_the_terms_and_set_HF_TOKEN()
    {
        using var client = new HubClient(Options());

        var ex = await Assert.ThrowsAsync<HubException>(() => client.GetDatasetInfoAsync(FakeHubFixture.GatedId));

        Assert.Equal(HubErrorKind.Gated, ex.Kind);
        Assert.Equal(401, ex.StatusCode);
        Assert.Contains($"dataset 'demo/gated' is gated: accept its terms at {fixture.Hub.Endpoint}/datasets/demo/gated", ex.Message);
        Assert.Contains("set HF_TOKEN (or write the token to /home/me/.cache/huggingface/token)", ex.Message);
    }

    [Fact]
    public async Task Gated_dataset_with_a_wrong_token_is_refused_and_with_the_right_one_downloads()
    {
        using (var wrong = new HubClient(Options(token: "hf_wrong")))
        {
            var ex = await Assert.ThrowsAsync<HubException>(() => wrong.DownloadFileAsync(FakeHubFixture.GatedId, "identity.json"));
            Assert.Equal(HubErrorKind.Gated, ex.Kind);
            Assert.Equal(403, ex.StatusCode);
            Assert.Contains("the token sent was not accepted", ex.Message);
        }

        int before = fixture.Hub.Requests.Count;
        using var client = new HubClient(Options(token: FakeHub.GoodToken));
        var local = await client.DownloadFileAsync(FakeHubFixture.GatedId, "identity.json");
        Assert.Equal(fixture.Gated.Files["identity.json"], File.ReadAllBytes(local));
        Assert.All(RequestsSince(before), r => Assert.Equal($"Bearer {FakeHub.GoodToken}", r.Authorization));
    }

    [Fact]
    public async Task Missing_dataset_revision_and_file_are_named()
    {
        using var client = new HubClient(Options());

        var repo = await Assert.ThrowsAsync<HubException>(() => client.GetDatasetInfoAsync("nobody/nothing"));
        Assert.Equal(HubErrorKind.NotFound, repo.Kind);
        Assert.Equal(404, repo.StatusCode);
        Assert.Contains("dataset 'nobody/nothing' was not found", repo.Message);
        Assert.Contains("check the id (org/name)", repo.Message);

        var revision = await Assert.ThrowsAsync<HubException>(() => client.GetDatasetInfoAsync(FakeHubFixture.ChatId, "v9"));
        Assert.Contains("revision 'v9' of dataset 'demo/chat' was not found", revision.Message);

        var file = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(FakeHubFixture.ChatId, "valid.jsonl"));
        Assert.Contains("file 'valid.jsonl' was not found in dataset 'demo/chat'", file.Message);

        var badId = Assert.Throws<HubException>(() => { client.GetDatasetInfoAsync("a/b/c").GetAwaiter().GetResult(); });
        Assert.Contains("not a valid Hugging Face dataset id", badId.Message);
    }

    [Fact]
    public async Task Offline_mode_uses_the_cache_only()
    {
        using (var online = new HubClient(Options()))
            await online.DownloadFileAsync(FakeHubFixture.ChatId, "test.jsonl");
        int before = fixture.Hub.Requests.Count;

        using var offline = new HubClient(Options(offline: true));
        var local = await offline.DownloadFileAsync(FakeHubFixture.ChatId, "test.jsonl");
        var info = await offline.GetDatasetInfoAsync(FakeHubFixture.ChatId);

        Assert.Equal(fixture.Chat.Files["test.jsonl"], File.ReadAllBytes(local));
        Assert.True(info.FromCache);
        Assert.Equal(fixture.Chat.Sha, info.Sha);
        Assert.Equal(["test.jsonl"], info.Files.Select(f => f.Path));
        Assert.Empty(RequestsSince(before));

        var ex = await Assert.ThrowsAsync<HubException>(() => offline.DownloadFileAsync(FakeHubFixture.ChatId, "train.jsonl"));
        Assert.Equal(HubErrorKind.NotCached, ex.Kind);
        Assert.Contains("offline mode (HF_HUB_OFFLINE=1) is on and file 'train.jsonl' of dataset 'demo/chat' at revision 'main' is not in the cache", ex.Message);
    }

    [Fact]
    public async Task Unreachable_hub_falls_back_to_the_cache()
    {
        using (var online = new HubClient(Options()))
            await online.DownloadFileAsync(FakeHubFixture.ChatId, "test.jsonl");

        using var down = new HubClient(Options() with { Endpoint = "http://127.0.0.1:9" });
        var local = await down.DownloadFileAsync(FakeHubFixture.ChatId, "test.jsonl");
        Assert.Equal(fixture.Chat.Files["test.jsonl"], File.ReadAllBytes(local));

        var ex = await Assert.ThrowsAsync<HubException>(() => down.DownloadFileAsync(FakeHubFixture.ChatId, "train.jsonl"));
        Assert.Equal(HubErrorKind.Network, ex.Kind);
        Assert.Contains("cannot reach http://127.0.0.1:9", ex.Message);
    }

    public void Dispose() => _cache.Dispose();

    /// <summary>Records reports synchronously (Progress&lt;T&gt; posts to the thread pool and may arrive late).</summary>
    private sealed class SyncProgress(List<DownloadProgress> sink) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => sink.Add(value);
    }
}
