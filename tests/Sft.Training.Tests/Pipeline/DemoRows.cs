using System.Text.Json;
using Sft.Data.Datasets;

namespace Sft.Training.Tests.Pipeline;

/// <summary>
/// The Alpaca demo datasets of src/Data/Assets/datasets as <see cref="DatasetExample"/>s, built the way the Alpaca
/// format does (user turn = instruction, then input on the next line), for pipeline tests.
/// </summary>
public static class DemoRows
{
    static readonly Lazy<IReadOnlyList<DatasetExample>> English = new(() => Load("alpaca_en_demo.json"));
    static readonly Lazy<IReadOnlyList<DatasetExample>> Chinese = new(() => Load("alpaca_zh_demo.json"));

    public static IReadOnlyList<DatasetExample> AlpacaEnglish => English.Value;
    public static IReadOnlyList<DatasetExample> AlpacaChinese => Chinese.Value;

    static IReadOnlyList<DatasetExample> Load(string name)
    {
        var path = Path.GetFullPath(Path.Combine(TestAssets.Root, "..", "..", "src", "Data", "Assets", "datasets", name));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.EnumerateArray().Select((row, i) =>
        {
            var instruction = row.GetProperty("instruction").GetString()!;
            var input = row.GetProperty("input").GetString()!;
            var output = row.GetProperty("output").GetString()!;
            var user = input.Length > 0 ? instruction + "\n" + input : instruction;
            var conversation = new Conversation([new Turn(Role.User, user), new Turn(Role.Assistant, output)], Alpaca: new AlpacaPrompt(instruction, input));
            return new DatasetExample(conversation, null, $"{name}#{i}");
        }).ToList();
    }
}
