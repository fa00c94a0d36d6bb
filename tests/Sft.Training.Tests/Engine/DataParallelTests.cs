using Sft.Training.Checkpoints;
using Sft.Training.Engine;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Sft.Training.Tests.Engine;

/// <summary>
/// Data parallel on CPU replicas: N replicas with batch b train like one replica with batch N·b (the same samples
/// in the same order, the loss normalised over the whole global batch), and a 2-replica run resumes exactly.
/// </summary>
[Collection(nameof(SerialTorchRng))]
public class DataParallelTests(ITestOutputHelper output)
{
    // fp32: the replicas' gradients are summed after two backward passes instead of inside one. Measured after 5 steps
    // at lr 2e-3: at most 1.2e-5 (mlp.gate_proj), the same as plain gradient accumulation of the same samples shows
    // (1.1e-5), most tensors below 1e-6.
    const float WeightTolerance = 2e-5f;

    // Adding a bias to every key leaves softmax(q·k) unchanged, so k_proj.bias has a true gradient of zero: what it gets
    // is rounding noise, which AdamW's g/√v turns into lr-sized steps (1e-4 here, with accumulation alone too).
    static bool GradientIsRoundingNoise(string name) => name.EndsWith("k_proj.bias", StringComparison.Ordinal);

    const string Lora = """
        pet_config:
          pet_type: lora
          lora_rank: 4
          lora_alpha: 8
          lora_dropout: 0.0
          target_modules: [q_proj, v_proj, down_proj]
        """;

    [Theory]
    [InlineData(false, 2)]   // full fine-tuning, gradient accumulation 2
    [InlineData(true, 1)]    // LoRA
    public void Two_replicas_of_batch_b_train_like_one_replica_of_batch_2b(bool lora, int accumulation)
    {
        using var dir = new TempDir();
        var model = TestAssets.Reference("qwen2_tied", "model");
        // 13 rows, global batches of 4: the fourth batch has one row, so replica 1 has nothing in it (a zero gradient).
        var data = TrainerFixtures.RandomDataset(dir.Path, rows: 13, seed: 5);
        const int steps = 5;
        string Yaml(string output, int batch, int replicas) => TrainerFixtures.Yaml(model, data, output, lr: 2e-3, maxSteps: steps,
            batch: batch, accumulation: accumulation, shuffle: true, lora: lora ? Lora : null, replicas: replicas);

        var single = new RecordingSink();
        new Trainer(TrainerFixtures.Load(Yaml(dir["one"], batch: 4, replicas: 1), dir.Path), single).Run(CancellationToken.None);
        var parallel = new RecordingSink();
        var result = new Trainer(TrainerFixtures.Load(Yaml(dir["two"], batch: 2, replicas: 2), dir.Path), parallel).Run(CancellationToken.None);

        Assert.Equal(TrainingPhase.Succeeded, result.Outcome);
        Assert.Contains(parallel.Events, e => e is LogEvent l && l.Message.StartsWith("data parallel over 2 replicas (cpu, cpu)", StringComparison.Ordinal));
        // Same samples per step, all replicas counted.
        Assert.Equal(single.Steps.Select(s => (s.Tokens, s.LossTokens, s.Samples)), parallel.Steps.Select(s => (s.Tokens, s.LossTokens, s.Samples)));
        for (var i = 0; i < steps; i++)
        {
            Assert.True(Math.Abs(single.Steps[i].Loss - parallel.Steps[i].Loss) < 1e-5, $"step {i + 1}: loss {single.Steps[i].Loss} vs {parallel.Steps[i].Loss}");
            Assert.True(Math.Abs(single.Steps[i].GradNorm - parallel.Steps[i].GradNorm) < 1e-4, $"step {i + 1}: grad norm {single.Steps[i].GradNorm} vs {parallel.Steps[i].GradNorm}");
        }
        var maxDifference = MaxDifference(Checkpoint(dir["one"], steps), Checkpoint(dir["two"], steps), out var tensors, GradientIsRoundingNoise);
        Assert.True(tensors >= (lora ? 6 : 10), $"only {tensors} tensors compared");
        output.WriteLine($"{(lora ? "LoRA" : "full")}: {tensors} tensors, max |Δweight| {maxDifference:E2} after {steps} steps");
        Assert.True(maxDifference < WeightTolerance, $"weights differ by up to {maxDifference}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // LoRA with dropout: the replicas draw their masks in a fixed order, restored on resume
    public void Two_replicas_stopped_and_resumed_equal_an_uninterrupted_two_replica_run(bool lora)
    {
        using var dir = new TempDir();
        var model = TestAssets.Reference("qwen2_untied", "model");
        var data = TrainerFixtures.RandomDataset(dir.Path, rows: 18, seed: 9);
        string Yaml(string output, bool resume) => TrainerFixtures.Yaml(model, data, output, lr: 2e-3, maxSteps: 7, batch: 2,
            accumulation: 2, shuffle: true, saveSteps: 3, resume: resume, replicas: 2, lora: lora ? Lora.Replace("0.0", "0.1") : null);

        var straight = new RecordingSink();
        new Trainer(TrainerFixtures.Load(Yaml(dir["a"], false), dir.Path), straight).Run(CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        var first = new RecordingSink(step => { if (step.Step == 4) cancel.Cancel(); });
        var stopped = new Trainer(TrainerFixtures.Load(Yaml(dir["b"], false), dir.Path), first).Run(cancel.Token);
        Assert.Equal((TrainingPhase.Cancelled, 4L), (stopped.Outcome, stopped.Steps));
        var second = new RecordingSink();
        new Trainer(TrainerFixtures.Load(Yaml(dir["b"], true), dir.Path), second).Run(CancellationToken.None);

        Assert.Equal([5L, 6, 7], second.Steps.Select(s => s.Step));
        Assert.Equal(straight.Steps.Select(s => s.Loss), first.Steps.Concat(second.Steps).Select(s => s.Loss));   // bit-exact
        Assert.Equal(0f, MaxDifference(Checkpoint(dir["a"], 7), Checkpoint(dir["b"], 7), out _));
        // One optimizer state, the primary's, as for a single device.
        using var optimizer = SafeTensorsFile.Open(Path.Combine(Checkpoint(dir["b"], 7), TrainerCheckpoints.OptimizerFile));
        using var weights = SafeTensorsFile.Open(Directory.GetFiles(Checkpoint(dir["b"], 7), lora ? "adapter_model.safetensors" : "model.safetensors").Single());
        Assert.Equal(weights.Tensors.Count, optimizer.Tensors.Keys.Count(k => k.EndsWith(".exp_avg", StringComparison.Ordinal)));
    }

    static string Checkpoint(string output, int step) => Path.Combine(output, "checkpoints", $"step-{step}");

    /// <summary>The largest absolute difference between the weights of two checkpoint folders (model or PEFT adapter),
    /// leaving out the tensors <paramref name="skip"/> names.</summary>
    static float MaxDifference(string a, string b, out int tensors, Func<string, bool>? skip = null)
    {
        var max = 0f;
        tensors = 0;
        var files = Directory.GetFiles(a, "*.safetensors").Select(Path.GetFileName).Where(f => f != TrainerCheckpoints.OptimizerFile).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            using var x = SafeTensorsFile.Open(Path.Combine(a, file!));
            using var y = SafeTensorsFile.Open(Path.Combine(b, file!));
            Assert.Equal(x.Tensors.Keys.Order(), y.Tensors.Keys.Order());
            foreach (var name in x.Tensors.Keys.Where(n => skip?.Invoke(n) != true))
            {
                using var p = x.Read(name);
                using var q = y.Read(name);
                max = Math.Max(max, (p - q).abs().max().item<float>());
                tensors++;
            }
        }
        return max;
    }
}
