using System.Diagnostics;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Bench;

/// <summary>Measured square-matmul throughput (2·n³ FLOP per product), best of N after one warm-up, per dtype.</summary>
public static class MatmulPeak
{
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["sizes"] = "1024,2048,4096", ["repeats"] = "5", ["threads"] = "0", ["dtype"] = "both",
    };

    public sealed record SizeResult(int N, double Gflops);

    public sealed record Result(string Kind, string Impl, string Dtype, string Path, int Threads, IReadOnlyList<SizeResult> Sizes, double PeakGflops);

    public static int Run(BenchOptions o)
    {
        set_num_threads(o.Threads());
        var dtypes = o.Choice("dtype", "fp32", "bf16", "both") switch
        {
            "fp32" => new[] { ScalarType.Float32 },
            "bf16" => [ScalarType.BFloat16],
            _ => [ScalarType.Float32, ScalarType.BFloat16],
        };
        var (sizes, repeats) = (o.Ints("sizes"), o.Int("repeats", 1));
        foreach (var dtype in dtypes)
        {
            var results = sizes.Select(n => new SizeResult(n, Math.Round(Measure(dtype, n, repeats), 1))).ToList();
            Json.Print(new Result("matmul", "engine", DtypeOption.Name(dtype), "native", get_num_threads(), results, results.Max(r => r.Gflops)));
            if (dtype != ScalarType.BFloat16 || !Bf16Widening.Enabled) continue;
            // The path the engine's bf16 projections take on this CPU (Bf16Widening): widen, fp32 GEMM, round.
            results = sizes.Select(n => new SizeResult(n, Math.Round(Measure(dtype, n, repeats, widened: true), 1))).ToList();
            Json.Print(new Result("matmul", "engine", "bf16", "widened to fp32", get_num_threads(), results, results.Max(r => r.Gflops)));
        }
        return 0;
    }

    /// <summary>Best GFLOP/s of <paramref name="repeats"/> timed <c>[n, n] @ [n, n]</c> products.</summary>
    public static double Measure(ScalarType dtype, int n, int repeats, bool widened = false)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = randn([n, n], dtype);
        var b = randn([n, n], dtype);
        var c = empty([n, n], dtype);
        Action product = widened ? () => Bf16Widening.LinearInFp32(a, b, null).Dispose() : () => mm(a, b, c);
        product();                                     // warm-up: thread pool, packing buffers
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            product();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>c = a·b into an existing tensor (beta 0), so allocation is not timed.</summary>
    static void mm(Tensor a, Tensor b, Tensor c) => c.addmm_(a, b, beta: 0, alpha: 1);
}
