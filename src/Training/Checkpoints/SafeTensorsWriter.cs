using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Checkpoints;

/// <summary>
/// Writes safetensors files as Hugging Face tools expect them: header padded with spaces to 8-byte
/// alignment, <c>__metadata__ {"format":"pt"}</c>, offsets contiguous in header order, no holes.
/// Each file is written to a temporary name and renamed, so a reader never sees half a file.
/// </summary>
public static class SafeTensorsWriter
{
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>
    /// Writes <c>{stem}.safetensors</c>, or shards <c>{stem}-0000i-of-0000n.safetensors</c> plus
    /// <c>{stem}.safetensors.index.json</c> when the tensors are larger than <paramref name="maxShardBytes"/>.
    /// </summary>
    public static void SaveWeights(string folder, IReadOnlyList<(string Name, Tensor Tensor)> tensors,
        long maxShardBytes = DefaultMaxShardBytes, string stem = "model")
    {
        Directory.CreateDirectory(folder);
        var shards = new List<List<(string Name, Tensor Tensor)>> { new() };
        long current = 0, total = 0;
        foreach (var item in tensors)
        {
            var bytes = item.Tensor.NumberOfElements * item.Tensor.ElementSize;
            if (current > 0 && current + bytes > maxShardBytes) { shards.Add([]); current = 0; }
            shards[^1].Add(item);
            current += bytes;
            total += bytes;
        }

        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            Save(Path.Combine(folder, stem + ".safetensors"), shards[0], metadata);
            return;
        }

        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            var fileName = $"{stem}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Save(Path.Combine(folder, fileName), shards[i], metadata);
            foreach (var (name, _) in shards[i]) weightMap[name] = fileName;
        }
        var index = new { metadata = new { total_size = total }, weight_map = weightMap };
        WriteAtomically(Path.Combine(folder, stem + ".safetensors.index.json"),
            Encoding.UTF8.GetBytes(JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true })));
    }

    /// <summary>Writes one safetensors file with the tensors in the given order.</summary>
    public static void Save(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in tensors)
            if (!seen.Add(name)) throw new ArgumentException($"Tensor name '{name}' appears twice.");

        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            var length = tensor.NumberOfElements * tensor.ElementSize;
            header[name] = new Dictionary<string, object>
            {
                ["dtype"] = SafeTensorsFile.ToDtypeName(tensor.dtype),
                ["shape"] = tensor.shape,
                ["data_offsets"] = new[] { offset, offset + length },
            };
            offset += length;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var padded = (json.Length + 7) / 8 * 8;

        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(BitConverter.GetBytes((long)padded));
            stream.Write(json);
            for (var i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, tensor) in tensors) WriteData(stream, tensor);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    static unsafe void WriteData(Stream stream, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.detach();
        if (cpu.device_type != DeviceType.CPU) cpu = cpu.cpu();
        if (!cpu.is_contiguous()) cpu = cpu.contiguous();
        var pointer = (byte*)TensorMemory.DataPointer(cpu);
        var length = cpu.NumberOfElements * cpu.ElementSize;
        const int chunk = 1 << 30;
        for (long done = 0; done < length; done += chunk)
            stream.Write(new ReadOnlySpan<byte>(pointer + done, (int)Math.Min(chunk, length - done)));
    }

    public static void WriteAtomically(string path, byte[] content)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
