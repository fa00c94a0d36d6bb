using System.Text.Json;
using static TorchSharp.torch;

namespace Sft.Training.Checkpoints;

/// <summary>
/// The weights of a Hugging Face folder: <c>{stem}.safetensors</c>, or <c>{stem}.safetensors.index.json</c>
/// with its shards. Shards are opened on first use; reads go straight into tensor memory.
/// </summary>
public sealed class WeightSource : IDisposable
{
    readonly string _folder;
    readonly Dictionary<string, string> _fileOf;            // tensor name -> file name in the folder
    readonly Dictionary<string, SafeTensorsFile> _open = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _fileOf.Keys;
    public IReadOnlyCollection<string> Files => _fileOf.Values.Distinct().Order(StringComparer.Ordinal).ToArray();

    WeightSource(string folder, Dictionary<string, string> fileOf) { _folder = folder; _fileOf = fileOf; }

    public static WeightSource Open(string folder, string stem = "model")
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        var single = Path.Combine(folder, stem + ".safetensors");
        var index = Path.Combine(folder, stem + ".safetensors.index.json");
        if (File.Exists(index)) return FromIndex(folder, index);
        if (File.Exists(single))
        {
            var file = SafeTensorsFile.Open(single);
            var source = new WeightSource(folder, file.Tensors.Keys.ToDictionary(n => n, _ => Path.GetFileName(single), StringComparer.Ordinal));
            source._open[Path.GetFileName(single)] = file;
            return source;
        }
        var found = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Order().Take(20);
        throw new FileNotFoundException(
            $"No weights in {folder}: expected {stem}.safetensors or {stem}.safetensors.index.json with its shards " +
            $"(found: {string.Join(", ", found)}). Only safetensors checkpoints are supported; convert .bin/.ckpt files first.");
    }

    static WeightSource FromIndex(string folder, string indexPath)
    {
        Dictionary<string, string> map;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var weightMap) || weightMap.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{indexPath} has no \"weight_map\" object.");
            map = weightMap.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        }
        catch (JsonException e) { throw new InvalidDataException($"{indexPath} is not valid JSON: {e.Message}"); }

        foreach (var file in map.Values.Distinct())
        {
            if (file.Length == 0 || file.Contains('/') || file.Contains('\\') || file.Contains(".."))
                throw new InvalidDataException($"{indexPath} names an invalid shard file '{file}'.");
            if (!File.Exists(Path.Combine(folder, file)))
                throw new FileNotFoundException($"{indexPath} lists shard '{file}', which is missing from {folder}. Re-download the checkpoint.");
        }
        return new WeightSource(folder, map);
    }

    SafeTensorsFile FileFor(string name)
    {
        if (!_fileOf.TryGetValue(name, out var fileName)) throw new KeyNotFoundException($"Tensor '{name}' is not in the weights of {_folder}.");
        if (!_open.TryGetValue(fileName, out var file))
        {
            file = SafeTensorsFile.Open(Path.Combine(_folder, fileName));
            var missing = _fileOf.Where(kv => kv.Value == fileName && !file.Tensors.ContainsKey(kv.Key)).Select(kv => kv.Key).Take(5).ToArray();
            if (missing.Length > 0)
            {
                file.Dispose();
                throw new InvalidDataException($"The index of {_folder} places {string.Join(", ", missing)} in {fileName}, but that shard does not hold them.");
            }
            _open[fileName] = file;
        }
        return file;
    }

    public SafeTensorInfo Info(string name) => FileFor(name).Info(name);

    public Tensor Read(string name, ScalarType? dtype = null) => FileFor(name).Read(name, dtype);

    public void ReadInto(string name, Tensor destination) => FileFor(name).ReadInto(name, destination);

    public void Dispose()
    {
        foreach (var file in _open.Values) file.Dispose();
        _open.Clear();
    }
}
