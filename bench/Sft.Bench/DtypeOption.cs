using static TorchSharp.torch;

namespace Sft.Bench;

/// <summary>The bench's dtype names (fp32, bf16) and their byte sizes.</summary>
public static class DtypeOption
{
    public static ScalarType Parse(string name) => name switch
    {
        "fp32" => ScalarType.Float32,
        "bf16" => ScalarType.BFloat16,
        _ => throw new BenchOptionException($"--dtype is '{name}'; use fp32 or bf16."),
    };

    public static string Name(ScalarType dtype) => dtype == ScalarType.Float32 ? "fp32" : "bf16";

    public static int Bytes(ScalarType dtype) => dtype == ScalarType.Float32 ? 4 : 2;
}
