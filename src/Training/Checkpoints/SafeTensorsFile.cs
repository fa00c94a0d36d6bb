using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Checkpoints;

/// <summary>Where one tensor lies in a safetensors file: dtype name as in the header ("F32", "BF16", ...),
/// shape, and the byte range relative to the start of the data section.</summary>
public sealed record SafeTensorInfo(string Dtype, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long NumberOfElements => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// One safetensors file (https://huggingface.co/docs/safetensors): u64-LE header length, a JSON header
/// mapping names to dtype/shape/offsets, then the raw little-endian data. The header is parsed and
/// checked when the file is opened; tensors are read with positional reads straight into tensor
/// memory, so loading never holds a second copy of the weights.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    const long MaxHeaderBytes = 100_000_000;

    readonly SafeFileHandle _handle;
    readonly long _dataStart;

    public string Path { get; }
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafeTensorsFile(string path, SafeFileHandle handle, long dataStart,
        IReadOnlyDictionary<string, SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path; _handle = handle; _dataStart = dataStart; Tensors = tensors; Metadata = metadata;
    }

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var fileLength = RandomAccess.GetLength(handle);
            Span<byte> lengthBytes = stackalloc byte[8];
            if (fileLength < 8 || RandomAccess.Read(handle, lengthBytes, 0) != 8)
                throw Corrupt(path, "the file is shorter than the 8-byte header length");
            var headerLength = BitConverter.ToInt64(lengthBytes);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
                throw Corrupt(path, $"header length {headerLength} does not fit the file ({fileLength} bytes)");
            var header = new byte[headerLength];
            ReadExactly(handle, header, 8, path);
            var (tensors, metadata) = ParseHeader(header, path, fileLength - 8 - headerLength);
            return new SafeTensorsFile(path, handle, 8 + headerLength, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(byte[] header, string path, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Corrupt(path, $"the header is not valid JSON ({e.Message})"); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Corrupt(path, "the header is not a JSON object");

        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                foreach (var m in entry.Value.EnumerateObject())
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                continue;
            }
            try
            {
                var dtype = entry.Value.GetProperty("dtype").GetString()!;
                var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (offsets.Length != 2) throw Corrupt(path, $"tensor '{entry.Name}' has {offsets.Length} data_offsets, expected 2");
                var info = new SafeTensorInfo(dtype, shape, offsets[0], offsets[1]);
                if (info.Begin < 0 || info.End < info.Begin || info.End > dataLength)
                    throw Corrupt(path, $"tensor '{entry.Name}' has data_offsets [{info.Begin}, {info.End}] outside the {dataLength}-byte data section");
                var expected = info.NumberOfElements * DtypeSize(dtype, entry.Name, path);
                if (expected != info.ByteLength)
                    throw Corrupt(path, $"tensor '{entry.Name}' ({dtype} [{string.Join(", ", shape)}]) needs {expected} bytes but its offsets span {info.ByteLength}");
                tensors[entry.Name] = info;
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw Corrupt(path, $"tensor '{entry.Name}' has a malformed header entry ({e.Message})");
            }
        }
        return (tensors, metadata);
    }

    /// <summary>Reads a tensor into a new CPU tensor, in the file's dtype or converted to <paramref name="dtype"/>.</summary>
    public Tensor Read(string name, ScalarType? dtype = null)
    {
        var info = Info(name);
        var stored = ToScalarType(info.Dtype, name, Path);
        var tensor = empty(info.Shape, stored);
        ReadRaw(info, tensor);
        if (dtype is null || dtype == stored) return tensor;
        using (tensor) return tensor.to(dtype.Value);
    }

    /// <summary>
    /// Copies a tensor into an existing one (a parameter, say), converting dtype and device as needed.
    /// The shapes must be equal. A CPU destination of the stored dtype is filled in place with no temporary.
    /// </summary>
    public void ReadInto(string name, Tensor destination)
    {
        var info = Info(name);
        if (!info.Shape.SequenceEqual(destination.shape))
            throw new InvalidDataException(
                $"Tensor '{name}' in {Path} has shape [{string.Join(", ", info.Shape)}] but the model expects [{string.Join(", ", destination.shape)}].");
        var stored = ToScalarType(info.Dtype, name, Path);
        using var noGrad = no_grad();
        if (destination.device_type == DeviceType.CPU && destination.dtype == stored && destination.is_contiguous())
        {
            ReadRaw(info, destination);
            return;
        }
        using var staging = empty(info.Shape, stored);
        ReadRaw(info, staging);
        destination.copy_(staging);
    }

    public SafeTensorInfo Info(string name) =>
        Tensors.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"Tensor '{name}' is not in {Path}.");

    unsafe void ReadRaw(SafeTensorInfo info, Tensor destination)
    {
        var pointer = (byte*)TensorMemory.DataPointer(destination);
        const int chunk = 1 << 30;
        for (long done = 0; done < info.ByteLength;)
        {
            var length = (int)Math.Min(chunk, info.ByteLength - done);
            var span = new Span<byte>(pointer + done, length);
            var read = RandomAccess.Read(_handle, span, _dataStart + info.Begin + done);
            if (read <= 0) throw Corrupt(Path, $"unexpected end of file while reading a tensor");
            done += read;
        }
    }

    static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        for (var done = 0; done < buffer.Length;)
        {
            var read = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (read <= 0) throw Corrupt(path, "unexpected end of file");
            done += read;
        }
    }

    static InvalidDataException Corrupt(string path, string why) =>
        new($"{path} is not a valid safetensors file: {why}. Re-download or re-save it.");

    public static ScalarType ToScalarType(string dtype, string name, string path) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException(
            $"Tensor '{name}' in {path} has dtype {dtype}, which is not supported (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL are)."),
    };

    public static string ToDtypeName(ScalarType type) => type switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"dtype {type} cannot be stored in safetensors by this writer."),
    };

    static long DtypeSize(string dtype, string name, string path) => ToScalarType(dtype, name, path) switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    public void Dispose() => _handle.Dispose();
}

/// <summary>Raw access to a tensor's memory (LibTorchSharp's THSTensor_data).</summary>
static class TensorMemory
{
    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);

    public static IntPtr DataPointer(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("Raw tensor memory is only available for contiguous CPU tensors.");
        var pointer = THSTensor_data(tensor.Handle);
        return pointer;
    }

    /// <summary>The address of a tensor's first element on any device (a CUDA address for GPU tensors), for native
    /// libraries that take device pointers. The caller checks device and layout.</summary>
    public static IntPtr RawPointer(Tensor tensor) => THSTensor_data(tensor.Handle);
}
