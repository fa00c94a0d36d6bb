using System.Diagnostics;
using Sft.Training.Lora;
using Sft.Training.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sft.Bench;

/// <summary>
/// Where one decoder layer's time goes: forward + backward of the whole layer, then of each of its parts
/// alone on inputs of the same shape (projections, norms, RoPE, SDPA, SwiGLU), each with the FLOP/s of its
/// matrix products where it has any. Tells which parts run near the matmul peak and which do not.
/// </summary>
public static class LayerBench
{
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["model"] = "150m", ["dtype"] = "fp32", ["seq"] = "512", ["repeats"] = "9", ["threads"] = "0", ["lora"] = "0",
    };

    public sealed record Part(string Name, double MsMedian, double MsMin, double? Gflops);

    public sealed record Result(string Kind, string Model, string Dtype, int Seq, int Threads, IReadOnlyList<Part> Parts);

    public static int Run(BenchOptions o)
    {
        set_num_threads(o.Threads());
        var c = BenchModels.Load(o.String("model"));
        var dtype = DtypeOption.Parse(o.String("dtype"));
        int T = o.Int("seq", 2), repeats = o.Int("repeats", 1);
        manual_seed(0);
        using var layer = new DecoderLayer(c, 0, CPU, dtype);
        using (no_grad())
            foreach (var p in layer.parameters()) p.normal_(0, 0.02);
        using var scope = NewDisposeScope();
        var (cos, sin) = new RotaryEmbedding(c, CPU).forward(arange(T, ScalarType.Int64).view(1, -1), dtype);
        var inputs = new LayerInputs(cos.unsqueeze(1), sin.unsqueeze(1), null, null);
        long H = c.HiddenSize, I = c.IntermediateSize, hd = c.HeadDim, nh = c.NumAttentionHeads, nkv = c.NumKeyValueHeads;
        var (k, v) = (randn([1, nh, T, hd], dtype), randn([1, nh, T, hd], dtype));
        double Linear(long inF, long outF) => 3 * 2.0 * T * inF * outF;           // forward, input and weight gradients
        var parts = new List<Part>();
        void Time(string name, long[] shape, Func<Tensor, Tensor> f, double? flops = null)
        {
            var times = new List<double>();
            for (var i = 0; i <= repeats; i++)
            {
                using var inner = NewDisposeScope();
                var x = randn(shape, dtype).requires_grad_(true);
                var clock = Stopwatch.StartNew();
                var y = f(x);
                y.backward([ones_like(y)]);
                if (i > 0) times.Add(clock.Elapsed.TotalMilliseconds);          // the first is warm-up
            }
            times.Sort();
            var median = times[times.Count / 2];
            parts.Add(new Part(name, Math.Round(median, 2), Math.Round(times[0], 2), flops is { } n ? Math.Round(n / median / 1e6, 1) : null));
        }
        Time("layer", [1, T, H], x => layer.forward(x, inputs));
        Time("self_attn", [1, T, H], x => layer.self_attn.forward(x, inputs));
        Time("mlp", [1, T, H], x => layer.mlp.forward(x), 3 * Linear(H, I));
        Time("input_layernorm", [1, T, H], x => layer.input_layernorm.forward(x));
        Time("q_proj", [1, T, H], x => layer.self_attn.q_proj.forward(x), Linear(H, nh * hd));
        Time("k_proj", [1, T, H], x => layer.self_attn.k_proj.forward(x), Linear(H, nkv * hd));
        Time("o_proj", [1, T, nh * hd], x => layer.self_attn.o_proj.forward(x), Linear(nh * hd, H));
        Time("rope (q)", [1, nh, T, hd], x => RotaryEmbedding.Apply(x, inputs.Cos, inputs.Sin));
        Time("repeat_interleave (k)", [1, nkv, T, hd], x => x.repeat_interleave(nh / nkv, dim: 1));
        // Causal products only: q·kᵀ and p·v forward, two each in backward (what a kernel that skips masked blocks does).
        Time("sdpa causal (q)", [1, nh, T, hd], x => F.scaled_dot_product_attention(x, k, v, is_casual: true), 3 * 2 * 2.0 * nh * T * T * hd / 2);
        Time("gate_proj", [1, T, H], x => layer.mlp.gate_proj.forward(x), Linear(H, I));
        Time("down_proj", [1, T, I], x => layer.mlp.down_proj.forward(x), Linear(I, H));
        Time("silu(x) * x", [1, T, I], x => F.silu(x) * x);
        Time("residual add", [1, T, H], x => x + x);
        if (o.Int("lora", 0) is var rank and > 0)
        {
            // LoRA's cost per projection: the frozen base alone (forward and input gradient), then with the adapter.
            foreach (var (name, inF, outF) in new[] { ("q_proj", H, nh * hd), ("k_proj", H, nkv * hd), ("gate_proj", H, I), ("down_proj", I, H) })
            {
                var weight = new TorchSharp.Modules.Parameter(randn([outF, inF], dtype) * 0.02, requires_grad: false);
                using var adapter = new LoraLinear(weight, null, rank, 2.0 * rank, 0, useRsLora: false);
                using (no_grad()) adapter.LoraB.normal_(0, 0.02);
                Time($"{name} frozen", [1, T, inF], x => F.linear(x, weight), 2 * 2.0 * T * inF * outF);
                Time($"{name} frozen + lora r{rank}", [1, T, inF], x => adapter.forward(x), 2 * 2.0 * T * inF * outF);
            }
        }
        Json.Print(new Result("layer", o.String("model"), DtypeOption.Name(dtype), T, get_num_threads(), parts));
        return 0;
    }
}
