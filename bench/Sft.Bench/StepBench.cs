using System.Diagnostics;
using Sft.Training.Engine;
using Sft.Training.Lora;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Bench;

/// <summary>
/// Times the training step the trainer runs (forward, causal-LM loss, backward, global-norm clip,
/// AdamW, zero grads) on synthetic token batches, and prints tokens/s, the median step time, peak
/// RSS beside the computed memory model, and MFU against a measured matmul peak.
/// </summary>
public static class StepBench
{
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["model"] = "", ["mode"] = "full", ["dtype"] = "fp32", ["seq"] = "512", ["batch"] = "1",
        ["steps"] = "3", ["warmup"] = "1", ["threads"] = "0", ["recompute"] = "0", ["lora-rank"] = "16",
        ["peak-gflops"] = "", ["seed"] = "0",
    };

    public sealed record Result(
        string Kind, string Impl, string Model, string Mode, string Dtype, int Seq, int Batch, int Steps, int Warmup,
        int Threads, int RecomputeLayers, long ParamsTotal, long ParamsTrained, long ParamsMatmul, long TokensPerStep,
        double FlopsPerToken, double StepMsMedian, double StepMsMin, double StepMsMax, double TokensPerS,
        double AchievedGflops, double PeakGflops, string PeakSource, double Mfu, double BaselineRssMb, double PeakRssMb,
        double PeakAboveBaselineMb, MemoryModel MemoryModel, double MemoryModelTotalMb, double LossFirst, double LossLast);

    public static int Run(BenchOptions o)
    {
        var modelName = o.String("model") is { Length: > 0 } m ? m : throw new BenchOptionException("--model is required (50m, 150m or qwen2.5-0.5b).");
        var lora = o.Choice("mode", "full", "lora") == "lora";
        var dtype = DtypeOption.Parse(o.String("dtype"));
        int seq = o.Int("seq", 2), batch = o.Int("batch", 1), steps = o.Int("steps", 1), warmup = o.Int("warmup", 0);
        int recompute = o.Int("recompute", 0), rank = o.Int("lora-rank", 1), seed = o.Int("seed", 0);
        set_num_threads(o.Threads());
        var peak = o.OptionalDouble("peak-gflops");
        var peakSource = peak is null ? "measured in-process (2048, best of 3)" : "--peak-gflops";
        peak ??= MatmulPeak.Measure(dtype, 2048, 3);

        var config = BenchModels.Load(modelName);
        var baselineRss = ProcessMemory.RssMb();
        manual_seed(seed);
        using var model = new CausalLM(config, CPU, dtype);
        ModelInit.Initialize(model, seed);
        if (lora) LoraInjector.Inject(model, BenchModels.Lora(rank));
        model.model.RecomputeLayers = recompute;
        model.train();
        using var optimizer = new AdamWOptimizer(model.named_parameters().Select(p => (p.name, p.parameter)), new AdamWOptions(LearningRate: 1e-4));

        var generator = new Generator((ulong)seed, CPU);
        var times = new List<double>();
        var losses = new List<double>();
        for (var step = 0; step < warmup + steps; step++)
        {
            using var ids = randint(0, config.VocabSize, [batch, seq], ScalarType.Int64, CPU, generator: generator);
            var clock = Stopwatch.StartNew();
            var loss = TrainingStep(model, optimizer, ids);
            if (step >= warmup) times.Add(clock.Elapsed.TotalMilliseconds);
            losses.Add(loss);
        }

        var adapters = lora ? BenchModels.AdapterParameters(config, rank) : 0;
        var tokens = (long)batch * seq;
        var flopsPerToken = FlopsModel.PerToken(config, seq, lora, adapters);
        var median = Median(times);
        var tokensPerS = tokens / (median / 1000);
        var achieved = flopsPerToken * tokensPerS / 1e9;
        var memory = MemoryModel.Estimate(config, dtype, lora, adapters, rank, batch, seq, recompute);
        var peakRss = ProcessMemory.PeakRssMb();
        Json.Print(new Result("step", "engine", modelName, lora ? "lora" : "full", DtypeOption.Name(dtype), seq, batch, steps, warmup,
            get_num_threads(), recompute, config.ParameterCount() + adapters, lora ? adapters : config.ParameterCount(),
            FlopsModel.MatmulParameters(config), tokens, flopsPerToken, Math.Round(median, 1), Math.Round(times.Min(), 1),
            Math.Round(times.Max(), 1), Math.Round(tokensPerS, 1), Math.Round(achieved, 1), Math.Round(peak.Value, 1), peakSource,
            Math.Round(achieved / peak.Value, 4), Math.Round(baselineRss, 1), Math.Round(peakRss, 1), Math.Round(peakRss - baselineRss, 1),
            memory, Math.Round(memory.TotalMb, 1), Math.Round(losses[0], 4), Math.Round(losses[^1], 4)));
        return 0;
    }

    /// <summary>One optimisation step as the trainer's loop runs it; returns the mean loss.</summary>
    static float TrainingStep(CausalLM model, AdamWOptimizer optimizer, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var hidden = model.ForwardHidden(ids);                    // [B, T, H]
        var loss = CausalLmLoss.Compute(model, hidden, ids);     // labels = input ids, shifted inside
        var mean = loss.Sum / loss.Count;
        mean.backward();
        GradientClipping.ClipByGlobalNorm(optimizer.Parameters, 1.0);
        optimizer.Step();
        optimizer.ZeroGrad();
        return mean.item<float>();
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
