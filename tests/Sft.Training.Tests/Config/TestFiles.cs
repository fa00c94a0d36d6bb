using System.Text;

namespace Sft.Training.Tests.Config;

/// <summary>Paths of the repository's fixtures used by the config tests.</summary>
public static class TestFiles
{
    public static string RepoRoot { get; } = Path.GetDirectoryName(Path.GetDirectoryName(TestAssets.Root))!;

    /// <summary>Qwen/Qwen2.5-7B's config.json (tests/assets/configs).</summary>
    public static string Qwen25_7BConfig => Path.Combine(TestAssets.Root, "configs", "qwen2.5-7b.config.json");

    public static string ReferenceModel(string name) => TestAssets.Reference(name, "model");

    public static string DemoDataset => Path.Combine(RepoRoot, "src", "Data", "Assets", "datasets", "alpaca_en_demo.json");
}

/// <summary>
/// A temporary model folder: a real config.json, a valid (tensor-less) model.safetensors and, optionally,
/// vocab.json + merges.txt. Deleted on dispose.
/// </summary>
public sealed class TempModelFolder : IDisposable
{
    public string Path { get; }

    public TempModelFolder(string configJson, bool withTokenizer = true, bool withWeights = true)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sft-config-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        File.Copy(configJson, System.IO.Path.Combine(Path, "config.json"));
        if (withWeights) WriteEmptySafetensors(System.IO.Path.Combine(Path, "model.safetensors"));
        if (withTokenizer)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, "vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2}");
            File.WriteAllText(System.IO.Path.Combine(Path, "merges.txt"), "#version: 0.2\na b\n");
        }
    }

    /// <summary>A copy of every file of an existing model folder, plus a tokenizer.json.</summary>
    public static TempModelFolder CopyOf(string folder)
    {
        var temp = new TempModelFolder(System.IO.Path.Combine(folder, "config.json"), withTokenizer: false, withWeights: false);
        foreach (var file in Directory.GetFiles(folder))
            File.Copy(file, System.IO.Path.Combine(temp.Path, System.IO.Path.GetFileName(file)), overwrite: true);
        File.WriteAllText(System.IO.Path.Combine(temp.Path, "tokenizer.json"), "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}");
        return temp;
    }

    public string In(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>safetensors with no tensors: u64 header length, then the JSON header padded with spaces to 8 bytes.</summary>
    public static void WriteEmptySafetensors(string file)
    {
        var header = "{\"__metadata__\":{\"format\":\"pt\"}}";
        header = header.PadRight((header.Length + 7) / 8 * 8);
        using var stream = File.Create(file);
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        stream.Write(Encoding.UTF8.GetBytes(header));
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
