using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Hub;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Tests.Datasets.Hub;

/// <summary>The loader reading Hub datasets end to end through the fake Hub.</summary>
public sealed class HubDatasetLoaderTests(FakeHubFixture fixture) : IClassFixture<FakeHubFixture>, IDisposable
{
    private readonly TempFolder _cache = new();

    private HubClient Client(bool offline = false) => new(new HubOptions
    {
        Endpoint = fixture.Hub.Endpoint, CacheDir = _cache.Path, Offline = offline, RetryDelay = TimeSpan.FromMilliseconds(10),
    });

    [Fact]
    public async Task Hub_dataset_id_loads_its_parquet_train_split()
    {
        using var client = Client();
        var loader = new DatasetLoader(client);
        var progress = new List<DownloadProgress>();

        var split = await loader.LoadSplitAsync(new DatasetSpec { Path = FakeHubFixture.AlpacaId }, new ListProgress(progress));

        Assert.Equal(DatasetOrigin.Hub, split.Source.Origin);
        Assert.Equal(fixture.Alpaca.Sha, split.Source.Commit);
        Assert.Equal([".gitattributes", "README.md"], split.Source.Splits.Ignored);
        Assert.Equal(DatasetFormat.Alpaca, await split.DetectFormatAsync());
        var examples = split.Examples().ToList();
        Assert.Equal(999, examples.Count);
        Assert.Equal("Describe a process of making crepes.", examples[0].Conversation!.Alpaca!.Instruction);
        Assert.Equal("data/train-00000-of-00001.parquet row 999", examples[^1].Source);
        Assert.Equal(fixture.Alpaca.Files[FakeHubFixture.AlpacaShard].Length, progress[^1].BytesDone);
    }

    [Fact]
    public async Task Hub_splits_follow_file_names_and_work_offline_once_cached()
    {
        using (var client = Client())
        {
            var source = await new DatasetLoader(client).ResolveAsync(new DatasetSpec { Path = FakeHubFixture.ChatId });
            Assert.Equal(["train", "test"], source.SplitNames);
            var test = await new DatasetLoader(client).LoadSplitAsync(new DatasetSpec { Path = FakeHubFixture.ChatId, Split = "test" });
            Assert.Equal(DatasetFormat.Messages, await test.DetectFormatAsync());
            Assert.Equal(100, test.Examples().Count());
        }

        int before = fixture.Hub.Requests.Count;
        using var offline = Client(offline: true);
        var cached = await new DatasetLoader(offline).LoadSplitAsync(new DatasetSpec { Path = FakeHubFixture.ChatId, Split = "test[:10]" });
        Assert.True(cached.Source.FromCache);
        Assert.Equal(10, cached.Examples().Count());
        Assert.Equal(before, fixture.Hub.Requests.Count);
    }

    [Fact]
    public async Task Missing_hub_dataset_also_says_it_is_not_local()
    {
        using var client = Client();
        var ex = await Assert.ThrowsAsync<HubException>(() => new DatasetLoader(client).LoadSplitAsync(new DatasetSpec { Path = "someone/typo" }));
        Assert.Contains("dataset 'someone/typo' was not found", ex.Message);
        Assert.Contains("No local file or folder 'someone/typo' exists either", ex.Message);
    }

    public void Dispose() => _cache.Dispose();

    private sealed class ListProgress(List<DownloadProgress> sink) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => sink.Add(value);
    }
}
