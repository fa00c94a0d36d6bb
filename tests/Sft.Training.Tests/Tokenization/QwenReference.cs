using System.IO.Compression;
using System.Text.Json;

namespace Sft.Training.Tests.Tokenization;

/// <summary>
/// tests/assets/tokenizers/qwen_reference.jsonl.gz: ids and decodes produced by Hugging Face's tokenizers library
/// (make_reference.mjs beside it regenerates the file) for every field of the Alpaca demo datasets plus edge cases.
/// </summary>
public static class QwenReference
{
    public sealed record EncodeCase(string Text, int[] Ids);
    public sealed record DecodeCase(int[] Ids, bool Skip, string Text);

    static readonly Lazy<(List<EncodeCase>, List<DecodeCase>)> Cases = new(Load);

    public static IReadOnlyList<EncodeCase> Encodes => Cases.Value.Item1;
    public static IReadOnlyList<DecodeCase> Decodes => Cases.Value.Item2;

    static (List<EncodeCase>, List<DecodeCase>) Load()
    {
        var path = Path.Combine(TestAssets.Root, "tokenizers", "qwen_reference.jsonl.gz");
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        List<EncodeCase> encodes = [];
        List<DecodeCase> decodes = [];
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var ids = root.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            if (root.GetProperty("kind").GetString() == "encode") encodes.Add(new EncodeCase(root.GetProperty("text").GetString()!, ids));
            else decodes.Add(new DecodeCase(ids, root.GetProperty("skip").GetBoolean(), root.GetProperty("text").GetString()!));
        }
        return (encodes, decodes);
    }
}
