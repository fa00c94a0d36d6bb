using System.Diagnostics;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Sft.Bench;

/// <summary>
/// The attention levers in isolation, forward + backward for one layer of a benchmarked shape:
/// HF's eager path (explicit q·kᵀ, additive mask, fp32 softmax), SDPA after k/v repeat_interleave (the
/// engine), SDPA after expand+reshape, and SDPA with the query heads of a group folded into the query
/// length so k/v are never expanded (an explicit causal mask then). Prints the median ms of each and
/// its largest difference from the engine's output.
/// </summary>
public static class AttentionBench
{
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["model"] = "150m", ["dtype"] = "fp32", ["seq"] = "512", ["batch"] = "1", ["repeats"] = "7", ["threads"] = "0",
    };

    public sealed record Variant(string Name, double MsMedian, double MsMin, double MaxAbsDiff);

    public sealed record Result(string Kind, string Model, string Dtype, int Seq, int Batch, int Threads, IReadOnlyList<Variant> Variants);

    public static int Run(BenchOptions o)
    {
        set_num_threads(o.Threads());
        var c = BenchModels.Load(o.String("model"));
        var dtype = DtypeOption.Parse(o.String("dtype"));
        int seq = o.Int("seq", 2), batch = o.Int("batch", 1), repeats = o.Int("repeats", 1);
        long nh = c.NumAttentionHeads, nkv = c.NumKeyValueHeads, hd = c.HeadDim, rep = nh / nkv;
        manual_seed(0);
        using var scope = NewDisposeScope();
        var q = randn([batch, nh, seq, hd], dtype);
        var k = randn([batch, nkv, seq, hd], dtype);
        var v = randn([batch, nkv, seq, hd], dtype);
        var grad = randn([batch, nh, seq, hd], dtype);
        var additive = full([seq, seq], dtype == ScalarType.Float32 ? float.MinValue : -3.3895e38, dtype).triu(1);
        var rows = arange(rep * seq).remainder(seq).view(-1, 1);                   // query position of each folded row
        var folded = (arange(seq).view(1, -1) <= rows).view(1, 1, rep * seq, seq); // [1, 1, rep·T, T]

        var variants = new (string Name, Func<Tensor, Tensor, Tensor, Tensor> Attend)[]
        {
            ("sdpa, k/v repeat_interleave (engine)", (q, k, v) =>
                F.scaled_dot_product_attention(q, k.repeat_interleave(rep, dim: 1), v.repeat_interleave(rep, dim: 1), is_casual: true)),
            ("eager: q·kT + mask, fp32 softmax (HF)", (q, k, v) =>
            {
                var (ke, ve) = (Expand(k, rep), Expand(v, rep));
                var w = q.matmul(ke.transpose(2, 3)) * Math.Pow(hd, -0.5) + additive;
                return F.softmax(w, -1, ScalarType.Float32).to(q.dtype).matmul(ve);
            }),
            ("sdpa, k/v expand+reshape", (q, k, v) =>
                F.scaled_dot_product_attention(q, Expand(k, rep), Expand(v, rep), is_casual: true)),
            ("sdpa, query groups folded, no k/v copy", (q, k, v) =>
                F.scaled_dot_product_attention(q.reshape(batch, nkv, rep * seq, hd), k, v, folded).view(batch, nh, seq, hd)),
        };

        Tensor? reference = null;
        var results = new List<Variant>();
        foreach (var (name, attend) in variants)
        {
            var times = new List<double>();
            Tensor? output = null;
            for (var i = 0; i <= repeats; i++)
            {
                using var inner = NewDisposeScope();
                var (qi, ki, vi) = (q.detach().requires_grad_(true), k.detach().requires_grad_(true), v.detach().requires_grad_(true));
                var clock = Stopwatch.StartNew();
                var y = attend(qi, ki, vi);
                y.backward([grad]);
                if (i > 0) times.Add(clock.Elapsed.TotalMilliseconds);   // the first is warm-up
                if (i == repeats) output = y.detach().MoveToOuterDisposeScope();
            }
            reference ??= output;
            var diff = (output!.to(ScalarType.Float32) - reference!.to(ScalarType.Float32)).abs().max().item<float>();
            times.Sort();
            results.Add(new Variant(name, Math.Round(times[times.Count / 2], 2), Math.Round(times[0], 2), diff));
        }
        Json.Print(new Result("attention", o.String("model"), DtypeOption.Name(dtype), seq, batch, get_num_threads(), results));
        return 0;
    }

    /// <summary>HF's repeat_kv: [B, nkv, T, hd] → [B, nkv·rep, T, hd] by expand then reshape.</summary>
    static Tensor Expand(Tensor x, long rep)
    {
        var (b, n, t, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        return x.unsqueeze(2).expand(b, n, rep, t, d).reshape(b, n * rep, t, d);
    }
}
