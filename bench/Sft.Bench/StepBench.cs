using System.Diagnostics;
using Sft.Training.Config.Memory;
using Sft.Training.Engine;
using Sft.Training.Lora;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Bench;

/// <summary>
/// Times the training step the trainer runs (forward, causal-LM loss, backward, global-norm clip,
/// AdamW, zero grads) on synthetic token batches, and prints tokens/s, the median step time, peak
/// RSS beside the engine's own memory estimate (<see cref="MemoryEstimator"/>), and MFU against a
/// measured matmul peak.
/// </summary>
public static class StepBench
{
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["model"] = "", ["mode"] = "full", ["dtype"] = "fp32", ["seq"] = "512", ["batch"] = "1",
        ["steps"] = "3", ["warmup"] = "1", ["threads"] = "0", ["recompute"] = "0", ["lora-rank"] = "16",
        ["peak-gflops"] = "", ["seed"] = "0", ["adamw"] = "fused", ["zero-grad"] = "none", ["trim"] = "no", ["heap-control"] = "yes",
    };

    public sealed record Result(
        string Kind, string Impl, string Model, string Mode, string Dtype, int Seq, int Batch, int Steps, int Warmup,
        int Threads, int RecomputeLayers, long ParamsTotal, long ParamsTrained, long ParamsMatmul, long TokensPerStep,
        double FlopsPerToken, double StepMsMedian, double StepMsMin, double StepMsMax, double CpuMsMedian, long MinorFaultsMedian, double TokensPerS,
        double AchievedGflops, double PeakGflops, string PeakSource, double Mfu, double BaselineRssMb, double PeakRssMb,
        double SetupRssMb, double PeakAboveBaselineMb, MemoryFigures MemoryModel, double MemoryModelTotalMb, double LossFirst, double LossLast,
        IReadOnlyDictionary<string, double> PhaseMsMedian, IReadOnlyDictionary<string, double> PhasePeakRssMb, IReadOnlyDictionary<string, double> PhaseEndRssMb, MemoryGoal MemoryGoal, string LoadAvg, string Allocator, bool HeapControl);

    /// <summary>The heap allocator this process runs under, as bench/allocator.sh names it (pytorch_eager.py says the same).</summary>
    static string Allocator()
    {
        if ((Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Contains("jemalloc"))
            return (Environment.GetEnvironmentVariable("MALLOC_CONF") ?? "").Contains("dirty_decay_ms:-1") ? "jemalloc-keep" : "jemalloc";
        return Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") == "1048576" ? "glibc-mmap1m" : "glibc";
    }

    public static int Run(BenchOptions o)
    {
        var modelName = o.String("model") is { Length: > 0 } m ? m : throw new BenchOptionException("--model is required (50m, 150m or qwen2.5-0.5b).");
        var lora = o.Choice("mode", "full", "lora") == "lora";
        var dtype = DtypeOption.Parse(o.String("dtype"));
        int seq = o.Int("seq", 2), batch = o.Int("batch", 1), steps = o.Int("steps", 1), warmup = o.Int("warmup", 0);
        int recompute = o.Int("recompute", 0), rank = o.Int("lora-rank", 1), seed = o.Int("seed", 0);
        var fusedAdamW = o.Choice("adamw", "fused", "tensor") == "fused";
        var dropGrads = o.Choice("zero-grad", "none", "zero") == "none";
        set_num_threads(o.Threads());
        var peak = o.OptionalDouble("peak-gflops");
        var peakSource = peak is null ? "measured in-process (2048, best of 3)" : "--peak-gflops";
        peak ??= MatmulPeak.Measure(dtype, 2048, 3);

        var config = BenchModels.Load(modelName);
        var baselineRss = Mb(MemorySnapshot.OfProcess().ProcessRss);
        manual_seed(seed);
        using var model = new CausalLM(config, CPU, dtype);
        ModelInit.Initialize(model, seed);
        if (lora) LoraInjector.Inject(model, BenchModels.Lora(rank));
        model.model.RecomputeLayers = recompute;
        model.train();
        using var optimizer = new AdamWOptimizer(model.named_parameters().Select(p => (p.name, p.parameter)), new AdamWOptions(LearningRate: 1e-4))
        {
            FusedCpuKernel = fusedAdamW,
        };

        var setupRss = Mb(MemorySnapshot.OfProcess().ProcessRss);   // weights, optimizer state, no step yet
        // As the trainer's loop does (HeapAllocator): setup's freed memory returned, step memory kept for the next step.
        var heapControl = o.Choice("heap-control", "yes", "no") == "yes";
        using var heap = heapControl ? HeapAllocator.TrainingLoop() : null;
        var generator = new Generator((ulong)seed, CPU);
        var times = new List<double>();
        var cpuTimes = new List<double>();
        var faults = new List<double>();
        var losses = new List<double>();
        var phases = new PhaseTimes(o.Choice("trim", "no", "yes") == "yes");
        for (var step = 0; step < warmup + steps; step++)
        {
            using var ids = randint(0, config.VocabSize, [batch, seq], ScalarType.Int64, CPU, generator: generator);
            var cpu = Environment.CpuUsage.TotalTime;
            var faulted = PageFaults.Minor();
            var clock = Stopwatch.StartNew();
            var loss = TrainingStep(model, optimizer, ids, dropGrads, step >= warmup ? phases : null);
            if (step >= warmup)
            {
                times.Add(clock.Elapsed.TotalMilliseconds);
                cpuTimes.Add((Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds);
                faults.Add(PageFaults.Minor() - faulted);
            }
            losses.Add(loss);
        }

        var estimate = MemoryEstimator.Estimate(config, new MemoryInputs(dtype, batch, seq, lora ? BenchModels.Lora(rank) : null, recompute, MaterializedAttention: false));
        var adapters = lora ? estimate.TrainableParameters : 0;
        var tokens = (long)batch * seq;
        var flopsPerToken = FlopsModel.PerToken(config, seq, lora, adapters);
        var median = Median(times);
        var tokensPerS = tokens / (median / 1000);
        var achieved = flopsPerToken * tokensPerS / 1e9;
        var memory = MemoryFigures.Of(estimate);
        // The phases reset the kernel's high-water mark (VmHWM) as they go, so the run's peak is the largest of theirs.
        var peakRss = Math.Max(Mb(MemorySnapshot.OfProcess().ProcessPeakRss), phases.LargestPeakMb);
        Json.Print(new Result("step", "engine", modelName, lora ? "lora" : "full", DtypeOption.Name(dtype), seq, batch, steps, warmup,
            get_num_threads(), recompute, estimate.TotalParameters, estimate.TrainableParameters,
            FlopsModel.MatmulParameters(config), tokens, flopsPerToken, Math.Round(median, 1), Math.Round(times.Min(), 1),
            Math.Round(times.Max(), 1), Math.Round(Median(cpuTimes), 1), (long)Median(faults), Math.Round(tokensPerS, 1), Math.Round(achieved, 1), Math.Round(peak.Value, 1), peakSource,
            Math.Round(achieved / peak.Value, 4), Math.Round(baselineRss, 1), Math.Round(peakRss, 1), setupRss, Math.Round(peakRss - baselineRss, 1),
            memory, Math.Round(memory.TotalMb, 1), Math.Round(losses[0], 4), Math.Round(losses[^1], 4), phases.Medians(),
            phases.PeakRss(baselineRss), phases.EndRss(baselineRss),
            MemoryGoal.Check(lora, Math.Round(peakRss - baselineRss, 1), memory), File.ReadAllText("/proc/loadavg").Trim(), Allocator(), heapControl));
        return 0;
    }

    /// <summary>One optimisation step as the trainer's loop runs it; returns the mean loss.</summary>
    /// <param name="dropGrads">ZeroGrad (gradients set to none) or, to measure that lever, zero them in place as before.</param>
    static float TrainingStep(CausalLM model, AdamWOptimizer optimizer, Tensor ids, bool dropGrads, PhaseTimes? phases)
    {
        using var scope = NewDisposeScope();
        phases?.Begin();
        var clock = Stopwatch.StartNew();
        var hidden = model.ForwardHidden(ids);                    // [B, T, H]
        phases?.Lap("forward", clock);
        var loss = CausalLmLoss.Compute(model, hidden, ids);     // labels = input ids, shifted inside
        var mean = loss.Sum / loss.Count;
        phases?.Lap("loss", clock);
        mean.backward();
        phases?.Lap("backward", clock);
        var norm = GradientClipping.GlobalNorm(optimizer.Parameters);
        phases?.Lap("clip", clock);
        optimizer.Step(GradientClipping.Coefficient(norm, 1.0));   // as the trainer does: AdamW applies the clipping
        if (dropGrads) optimizer.ZeroGrad();
        else
            foreach (var p in optimizer.Parameters)
            {
                using var grad = p.grad;
                grad?.zero_();
            }
        var value = mean.item<float>();
        phases?.Lap("optimizer", clock);
        return value;
    }

    /// <summary>
    /// Milliseconds per phase of the step, one list per phase name, and the peak RSS reached inside each phase:
    /// Linux's high-water mark (VmHWM) is reset at the start of every phase (<c>/proc/self/clear_refs</c>, "5"),
    /// so each phase's peak is its own, which is what tells where a step's memory goes.
    /// </summary>
    sealed class PhaseTimes
    {
        readonly Dictionary<string, List<double>> _laps = [];
        readonly Dictionary<string, double> _peaks = [];
        readonly Dictionary<string, double> _ends = [];
        readonly bool _trim;

        /// <param name="trim">finalize unreachable tensors (GC) and return freed heap memory to the OS between phases
        /// (HeapAllocator.ReturnFreeMemory: malloc_trim, or a jemalloc purge), so that a phase's peak is the memory live when it starts plus what it allocates, not
        /// what the allocator kept from earlier phases (a diagnostic: it costs page faults, so timings with it are not the
        /// engine's)</param>
        public PhaseTimes(bool trim) => _trim = trim;

        /// <summary>Starts a timed step: whatever peak came before (setup, warm-up) is kept under "before".</summary>
        public void Begin()
        {
            _peaks["before"] = Math.Max(_peaks.GetValueOrDefault("before"), Mb(MemorySnapshot.OfProcess().ProcessPeakRss));
            ResetPeak();
        }

        public void Lap(string phase, Stopwatch clock)
        {
            if (!_laps.TryGetValue(phase, out var list)) _laps[phase] = list = [];
            list.Add(clock.Elapsed.TotalMilliseconds);
            var peak = Mb(MemorySnapshot.OfProcess().ProcessPeakRss);
            _peaks[phase] = Math.Max(_peaks.GetValueOrDefault(phase), peak);
            ResetPeak();
            _ends[phase] = Math.Max(_ends.GetValueOrDefault(phase), Mb(MemorySnapshot.OfProcess().ProcessRss));
            clock.Restart();
        }

        public IReadOnlyDictionary<string, double> Medians() => _laps.ToDictionary(p => p.Key, p => Math.Round(Median(p.Value), 1));

        /// <summary>Each phase's largest RSS at its end (after the GC and the heap trim when trimming: the memory still live), in MB above <paramref name="baselineMb"/>.</summary>
        public IReadOnlyDictionary<string, double> EndRss(double baselineMb) => _ends.ToDictionary(p => p.Key, p => Math.Round(p.Value - baselineMb, 1));

        /// <summary>The largest peak RSS of any phase (including "before"), in MB.</summary>
        public double LargestPeakMb => _peaks.Values.DefaultIfEmpty(0).Max();

        /// <summary>Each phase's largest peak RSS over the timed steps, in MB above <paramref name="baselineMb"/>.</summary>
        public IReadOnlyDictionary<string, double> PeakRss(double baselineMb) => _peaks.ToDictionary(p => p.Key, p => Math.Round(p.Value - baselineMb, 1));

        void ResetPeak()
        {
            if (_trim) { GC.Collect(); GC.WaitForPendingFinalizers(); HeapAllocator.ReturnFreeMemory(); }
            try { File.WriteAllText("/proc/self/clear_refs", "5"); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The shared training-memory estimate (Sft.Training.Config.Memory), in MB per component.</summary>
    public sealed record MemoryFigures(double WeightsMb, double MasterWeightsMb, double GradsMb, double OptimizerMb, double ActivationsMb, double TotalMb)
    {
        public static MemoryFigures Of(MemoryEstimate e) => new(Mb(e.WeightBytes), Mb(e.MasterWeightBytes), Mb(e.GradientBytes),
            Mb(e.OptimizerBytes), Mb(e.ActivationBytes), Mb(e.TotalBytes));
    }

    static double Mb(long bytes) => Math.Round(bytes / (1024.0 * 1024.0), 1);

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
