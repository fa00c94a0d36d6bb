namespace Sft.Training.Tests;

/// <summary>Paths of the fixtures under tests/assets and a scratch folder per test.</summary>
public static class TestAssets
{
    public static string Root { get; } = FindRoot();

    public static string Reference(params string[] parts) => Path.Combine([Root, "reference", .. parts]);

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "assets");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/assets not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder removed when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sft-test-").FullName;
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>
/// Tests that need torch's global CPU generator to themselves (dropout replay, seeded initialisation compared
/// bit for bit): xunit runs them alone, after the parallel ones, so no other test draws from it in between.
/// </summary>
[CollectionDefinition(nameof(SerialTorchRng), DisableParallelization = true)]
public sealed class SerialTorchRng;
