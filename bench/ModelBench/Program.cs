using System.Diagnostics;
using Sft.Training.Checkpoints;
using Sft.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

// Model benchmark: checkpoint load throughput and peak memory, forward tokens/s. Figures only, no asserts.
// Usage: ModelBench [--layers N] [--hidden H] [--seq T] [--batch B] [--dir DIR]
var opts = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--")).ToDictionary(p => p.a[2..], p => args[p.i + 1]);
int Opt(string name, int fallback) => opts.TryGetValue(name, out var v) ? int.Parse(v) : fallback;
var layers = Opt("layers", 8);
var hidden = Opt("hidden", 1024);
var (seq, batch) = (Opt("seq", 256), Opt("batch", 2));
var root = opts.TryGetValue("dir", out var d) ? d : Path.Combine(Path.GetTempPath(), "sft-model-bench");
Console.WriteLine($"threads: {get_num_threads()}, device: cpu");
// Fix glibc's mmap threshold so freed tensors go back to the OS and each load's memory growth is visible.
if (OperatingSystem.IsLinux()) Libc.mallopt(Libc.M_MMAP_THRESHOLD, 1 << 20);

var config = ModelConfig.Parse($$"""
{"model_type": "qwen2", "vocab_size": 32000, "hidden_size": {{hidden}}, "intermediate_size": {{hidden * 11 / 4}},
 "num_hidden_layers": {{layers}}, "num_attention_heads": {{hidden / 64}}, "num_key_value_heads": {{Math.Max(1, hidden / 256)}},
 "tie_word_embeddings": true, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "max_position_embeddings": 4096, "torch_dtype": "float32"}
""", "bench config");
Console.WriteLine($"model: qwen2 {layers} layers, hidden {hidden}, {config.ParameterCount() / 1e6:F1}M parameters");

foreach (var (stored, name) in new[] { (ScalarType.Float32, "fp32"), (ScalarType.BFloat16, "bf16") })
{
    var folder = Path.Combine(root, name);
    using (var model = new CausalLM(config, CPU, stored))
    {
        ModelInit.Initialize(model, seed: 1);
        HfModelFolder.Save(model, folder);
    }
    var bytes = Directory.GetFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length);
    foreach (var compute in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        double best = double.MaxValue; long peak = 0;
        for (var run = 0; run < 3; run++)                 // the first run warms the page cache
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var sampler = new RssSampler();
            var watch = Stopwatch.StartNew();
            using var model = HfModelFolder.Load(folder, new ModelLoadOptions { Dtype = compute });
            watch.Stop();
            var growth = sampler.PeakGrowth();
            if (run > 0) { best = Math.Min(best, watch.Elapsed.TotalSeconds); peak = Math.Max(peak, growth); }
        }
        var paramBytes = config.ParameterCount() * (compute == ScalarType.Float32 ? 4 : 2);
        Console.WriteLine($"load {name} file ({bytes / 1e6:F0} MB) -> {ModelConfig.DtypeName(compute)}: {bytes / best / 1e9:F2} GB/s warm " +
            $"({best * 1000:F0} ms), peak RSS growth {peak / 1e6:F0} MB for {paramBytes / 1e6:F0} MB of parameters");
    }
}

// A plain fp32/bf16 matmul now, to read the forward figures against (the machine may be shared).
foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
{
    using var scope = NewDisposeScope();
    var (a, b) = (randn(1024, 1024).to(dtype), randn(1024, 1024).to(dtype));
    a.matmul(b);
    var w = Stopwatch.StartNew();
    for (var i = 0; i < 5; i++) a.matmul(b);
    Console.WriteLine($"matmul 1024^3 {ModelConfig.DtypeName(dtype)}: {5 * 2.0 * 1024 * 1024 * 1024 / w.Elapsed.TotalSeconds / 1e9:F0} GFLOP/s");
}

foreach (var (preset, model) in new[] { ("demo-tiny", Demo()), ("bench", Bench()) })
using (model)
{
    foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
    {
        model.to(dtype);
        using var noGrad = no_grad();
        var ids = randint(0, 32000, [batch, seq], dtype: ScalarType.Int64);
        double Time(int reps)
        {
            var w = Stopwatch.StartNew();
            for (var i = 0; i < reps; i++) { using var scope = NewDisposeScope(); model.forward(ids); }
            return w.Elapsed.TotalSeconds / reps;
        }
        Time(1);
        var seconds = Time(2);
        // matmul FLOPs: 2 per weight per token (head included once even when tied) + attention scores and values
        var c = model.Config;
        var weights = c.ParameterCount() + (c.TieWordEmbeddings ? c.VocabSize * c.HiddenSize : 0) - c.VocabSize * c.HiddenSize;
        var flops = 2.0 * weights * batch * seq + 2.0 * c.NumHiddenLayers * batch * c.NumAttentionHeads * c.HeadDim * seq * seq;
        Console.WriteLine($"forward {preset} {ModelConfig.DtypeName(dtype)} [{batch}x{seq}]: {batch * seq / seconds:F0} tokens/s " +
            $"({seconds * 1000:F0} ms/batch, {flops / seconds / 1e9:F0} GFLOP/s)");
    }
}

CausalLM Demo()
{
    var m = new CausalLM(ModelPresets.Get("demo-tiny").Config);
    ModelInit.Initialize(m, 1);
    return m;
}

CausalLM Bench()
{
    var m = new CausalLM(config);
    ModelInit.Initialize(m, 1);
    return m;
}

static class Libc
{
    public const int M_MMAP_THRESHOLD = -3;
    [System.Runtime.InteropServices.DllImport("libc")]
    public static extern int mallopt(int param, int value);
}

/// <summary>Samples this process's resident memory (Linux /proc/self/statm) every millisecond from creation on.</summary>
sealed class RssSampler : IDisposable
{
    readonly long _baseline = Rss();
    long _peak;
    volatile bool _stop;
    readonly Thread _thread;

    public RssSampler()
    {
        _peak = _baseline;
        _thread = new Thread(() => { while (!_stop) { _peak = Math.Max(_peak, Rss()); Thread.Sleep(1); } }) { IsBackground = true };
        _thread.Start();
    }

    /// <summary>Highest resident memory seen so far, above the level at creation.</summary>
    public long PeakGrowth() => Math.Max(_peak, Rss()) - _baseline;

    static long Rss() => long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;

    public void Dispose() { _stop = true; _thread.Join(); }
}
