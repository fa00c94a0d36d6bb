using Sft.Training.Config.Memory;

namespace Sft.Bench;

/// <summary>
/// Expected figures for a machine we cannot run on, from the same formulas the step benchmark uses:
/// tokens/s = assumed MFU × the device's dense peak / model FLOPs per token, and the engine's memory
/// estimate (fused attention, as on a GPU).
/// </summary>
public static class Projection
{
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["model"] = "qwen2.5-7b", ["mode"] = "lora", ["dtype"] = "bf16", ["seq"] = "512", ["batch"] = "8",
        ["peak-gflops"] = "989000", ["mfu"] = "0.4", ["recompute"] = "0", ["lora-rank"] = "16",
    };

    public sealed record Result(string Kind, string Model, string Mode, string Dtype, int Seq, int Batch, int RecomputeLayers,
        long ParamsTotal, long ParamsTrained, double FlopsPerToken, double PeakGflops, double AssumedMfu, double TokensPerS,
        double StepMs, StepBench.MemoryFigures MemoryModel);

    public static int Run(BenchOptions o)
    {
        var config = BenchModels.Load(o.String("model"));
        var lora = o.Choice("mode", "full", "lora") == "lora";
        var dtype = DtypeOption.Parse(o.String("dtype"));
        int seq = o.Int("seq", 2), batch = o.Int("batch", 1), recompute = o.Int("recompute", 0), rank = o.Int("lora-rank", 1);
        var peak = o.OptionalDouble("peak-gflops") ?? throw new BenchOptionException("--peak-gflops is required.");
        var mfu = o.OptionalDouble("mfu") ?? throw new BenchOptionException("--mfu is required (a fraction, e.g. 0.4).");
        if (mfu > 1) throw new BenchOptionException($"--mfu is a fraction of the peak (0-1], got {mfu}.");

        var estimate = MemoryEstimator.Estimate(config, new MemoryInputs(dtype, batch, seq, lora ? BenchModels.Lora(rank) : null, recompute, MaterializedAttention: false));
        var flopsPerToken = FlopsModel.PerToken(config, seq, lora, lora ? estimate.TrainableParameters : 0);
        var tokensPerS = mfu * peak * 1e9 / flopsPerToken;
        Json.Print(new Result("estimate", o.String("model"), lora ? "lora" : "full", DtypeOption.Name(dtype), seq, batch, recompute,
            estimate.TotalParameters, estimate.TrainableParameters, flopsPerToken, peak, mfu, Math.Round(tokensPerS), Math.Round(batch * seq / tokensPerS * 1000, 1),
            StepBench.MemoryFigures.Of(estimate)));
        return 0;
    }
}
