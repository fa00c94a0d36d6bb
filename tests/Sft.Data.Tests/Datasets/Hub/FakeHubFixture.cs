using System.Text;
using Parquet.Serialization;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Tests.Datasets.Hub;

/// <summary>
/// One fake Hub per test class, serving the demo datasets: <c>llm-wizard/alpaca-gpt4-data</c> (alpaca_en_demo
/// as a parquet shard, an LFS file), <c>demo/chat</c> (v1_sft_demo split into train.jsonl, LFS-sized, and
/// test.jsonl, a plain file), and the gated <c>demo/gated</c> (identity.json).
/// </summary>
public sealed class FakeHubFixture : IAsyncLifetime
{
    public const string AlpacaId = "llm-wizard/alpaca-gpt4-data";
    public const string AlpacaShard = "data/train-00000-of-00001.parquet";
    public const string ChatId = "demo/chat";
    public const string GatedId = "demo/gated";

    public FakeHub Hub { get; private set; } = null!;
    public FakeRepo Alpaca { get; private set; } = null!;
    public FakeRepo Chat { get; private set; } = null!;
    public FakeRepo Gated { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Alpaca = new FakeRepo(AlpacaId, "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", new Dictionary<string, byte[]>
        {
            [".gitattributes"] = Encoding.UTF8.GetBytes("*.parquet filter=lfs diff=lfs merge=lfs -text\n"),
            ["README.md"] = Encoding.UTF8.GetBytes("---\nlicense: cc-by-nc-4.0\n---\n# alpaca-gpt4 (demo rows)\n"),
            [AlpacaShard] = await AlpacaParquetAsync(),
        });
        var lines = (await ReadBuiltinAsync("v1_sft_demo")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Chat = new FakeRepo(ChatId, "0123456789abcdef0123456789abcdef01234567", new Dictionary<string, byte[]>
        {
            ["train.jsonl"] = Encoding.UTF8.GetBytes(string.Join('\n', lines[..400]) + "\n"),
            ["test.jsonl"] = Encoding.UTF8.GetBytes(string.Join('\n', lines[400..]) + "\n"),
        });
        Gated = new FakeRepo(GatedId, "fedcba9876543210fedcba9876543210fedcba98", new Dictionary<string, byte[]>
        {
            ["identity.json"] = Encoding.UTF8.GetBytes(await ReadBuiltinAsync("identity")),
        }, Gated: true);
        Hub = await FakeHub.StartAsync(Alpaca, Chat, Gated);
    }

    public async Task DisposeAsync() => await Hub.DisposeAsync();

    private static async Task<string> ReadBuiltinAsync(string name)
    {
        Assert.True(BuiltinDatasets.TryGet(name, out var file));
        using var reader = new StreamReader(file.Open());
        return await reader.ReadToEndAsync();
    }

    private sealed class AlpacaRow
    {
        public string instruction { get; set; } = "";
        public string input { get; set; } = "";
        public string output { get; set; } = "";
    }

    private static async Task<byte[]> AlpacaParquetAsync()
    {
        Assert.True(BuiltinDatasets.TryGet("alpaca_en_demo", out var file));
        var rows = new List<AlpacaRow>();
        await foreach (var row in DataFileReader.ReadAsync(file))
            rows.Add(new AlpacaRow { instruction = (string)row.Values["instruction"]!, input = (string)row.Values["input"]!, output = (string)row.Values["output"]! });
        using var stream = new MemoryStream();
        await ParquetSerializer.SerializeAsync(rows, stream);
        return stream.ToArray();
    }
}
