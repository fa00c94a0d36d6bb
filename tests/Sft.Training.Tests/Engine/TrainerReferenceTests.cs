using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Engine;
using Sft.Training.Lora;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Engine;

/// <summary>
/// The trainer end to end against the reference runs: each fixture's request.json rows as a pre-tokenized
/// dataset (batch 2, no shuffle, constant LR, 3 steps, AdamW betas 0.9/0.999, eps 1e-8, weight decay 0.01,
/// clip 1.0). Losses per step and the weights saved after step 3 must match transformers + PEFT.
/// </summary>
public class TrainerReferenceTests
{
    public static TheoryData<string> Fixtures => new() { "qwen2_tied", "qwen2_untied", "llama" };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Full_fine_tuning_matches_the_reference_weights(string fixture)
    {
        using var dir = new TempDir();
        const double lr = 1e-3;
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference(fixture, "model"), TrainerFixtures.RequestDataset(fixture, dir.Path), dir["out"], lr, maxSteps: 3);
        var sink = new RecordingSink();
        var result = new Trainer(TrainerFixtures.Load(yaml, dir.Path), sink, yaml).Run(CancellationToken.None);

        Assert.Equal(TrainingPhase.Succeeded, result.Outcome);
        CheckLosses(fixture, "full_ft.json", sink);
        var checkpoint = Path.Combine(dir["out"], "checkpoints", "step-3");
        Assert.Equal(result.LastCheckpoint, checkpoint);
        CompareWeights(WeightSource.Open(TestAssets.Reference(fixture, "full_ft_after")), WeightSource.Open(checkpoint), 0.2 * lr);
        // The checkpoint is a Hugging Face folder: config.json that loads, beside the trainer state.
        using var reloaded = HfModelFolder.Load(checkpoint);
        Assert.True(File.Exists(Path.Combine(checkpoint, TrainerCheckpoints.OptimizerFile)));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Lora_training_from_lora_init_matches_the_reference_adapter(string fixture)
    {
        using var dir = new TempDir();
        const double lr = 5e-3;
        var init = TestAssets.Reference(fixture, "lora_init");
        var settings = PeftAdapter.ReadSettings(init);
        var targets = settings.Targets.PeftValue is string pattern ? $"'{pattern}'" : $"[{string.Join(", ", (IReadOnlyList<string>)settings.Targets.PeftValue)}]";
        var lora = $"""
            pet_config:
              pet_type: lora
              lora_rank: {settings.Rank}
              lora_alpha: {settings.Alpha}
              lora_dropout: 0.0
              target_modules: {targets}
              use_rslora: {(settings.UseRsLora ? "True" : "False")}
              adapter_path: '{init}'
            """;
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference(fixture, "model"), TrainerFixtures.RequestDataset(fixture, dir.Path), dir["out"], lr, maxSteps: 3, lora: lora);
        var sink = new RecordingSink();
        var result = new Trainer(TrainerFixtures.Load(yaml, dir.Path), sink, yaml).Run(CancellationToken.None);

        Assert.Equal(TrainingPhase.Succeeded, result.Outcome);
        CheckLosses(fixture, "lora.json", sink);
        var checkpoint = Path.Combine(dir["out"], "checkpoints", "step-3");
        using var expected = SafeTensorsFile.Open(Path.Combine(TestAssets.Reference(fixture, "lora_after"), PeftAdapter.WeightsFile));
        using var actual = SafeTensorsFile.Open(Path.Combine(checkpoint, PeftAdapter.WeightsFile));
        Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
        foreach (var name in expected.Tensors.Keys)
        {
            using var a = expected.Read(name);
            using var b = actual.Read(name);
            var error = (a - b).abs().max().item<float>();
            Assert.True(error <= 0.2 * lr, $"{fixture} {name}: max error {error}");
        }
        var saved = PeftAdapter.ReadSettings(checkpoint);
        Assert.Equal((settings.Rank, settings.Alpha, settings.UseRsLora), (saved.Rank, saved.Alpha, saved.UseRsLora));
    }

    static void CheckLosses(string fixture, string file, RecordingSink sink)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestAssets.Reference(fixture, file)));
        var expected = doc.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("loss").GetDouble()).ToArray();
        var losses = sink.Steps.Select(s => s.Loss).ToArray();
        Assert.Equal(expected.Length, losses.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - losses[i]) < 1e-5, $"{fixture} step {i + 1}: loss {losses[i]} vs {expected[i]}");
        var norms = doc.RootElement.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("grad_norm_total").GetDouble()).ToArray();
        for (var i = 0; i < norms.Length; i++)
            Assert.True(Math.Abs(norms[i] - sink.Steps[i].GradNorm) < 1e-4 * Math.Max(1, norms[i]), $"{fixture} step {i + 1}: grad norm {sink.Steps[i].GradNorm} vs {norms[i]}");
    }

    static void CompareWeights(WeightSource expected, WeightSource actual, double tolerance)
    {
        using (expected)
        using (actual)
        {
            Assert.Equal(expected.Names.Order(), actual.Names.Order());
            foreach (var name in expected.Names)
            {
                using var a = expected.Read(name);
                using var b = actual.Read(name);
                var error = (a - b).abs().max().item<float>();
                Assert.True(error <= tolerance, $"{name}: max error {error} > {tolerance}");
            }
        }
    }
}
