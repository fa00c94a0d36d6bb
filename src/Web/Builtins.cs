using Sft.Data.Datasets.Sources;
using Sft.Training.Config;
using Sft.Training.Models;

namespace Sft.Web;

/// <summary>
/// What <c>builtin:NAME</c> means in a job config: models made from the presets compiled into the engine
/// (created on first use under <c>{data}/models/NAME</c>, from a fixed seed so every machine gets the same
/// weights) and the demo datasets embedded in Sft.Data (copied out under <c>{data}/datasets/builtin</c>).
/// </summary>
public sealed class Builtins(string dataDirectory) : IBuiltinResolver
{
    static readonly Lock CreateLock = new();

    public string ModelsDirectory => Path.Combine(dataDirectory, "models");

    public IReadOnlyCollection<string> ModelNames => ModelPresets.Names;

    public IReadOnlyCollection<string> DatasetNames => BuiltinDatasets.Names;

    public string? ResolveModel(string name)
    {
        if (!ModelPresets.Names.Contains(name)) return null;
        var folder = Path.Combine(ModelsDirectory, name);
        lock (CreateLock)
            if (!File.Exists(Path.Combine(folder, "config.json")))
                ModelPresets.CreateFolder(name, folder);
        return folder;
    }

    /// <summary>The demo dataset copied out to <c>{data}/datasets/builtin/</c> (once), so jobs read a plain local file.</summary>
    public string? ResolveDataset(string name)
    {
        if (!BuiltinDatasets.TryGet(name, out var file)) return null;
        var path = Path.Combine(dataDirectory, "datasets", "builtin", file.Name);
        lock (CreateLock)
        {
            if (File.Exists(path)) return path;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            using (var source = file.Open())
            using (var target = File.Create(temporary))
                source.CopyTo(target);
            File.Move(temporary, path, overwrite: true);
        }
        return path;
    }
}
