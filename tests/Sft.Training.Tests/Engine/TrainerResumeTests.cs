using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Engine;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Engine;

/// <summary>Stop, resume, fail: a resumed run continues exactly (bit-exact on CPU in fp32) and failures keep the last step.</summary>
[Collection(nameof(SerialTorchRng))]
public class TrainerResumeTests
{
    const string LoraWithDropout = """
        pet_config:
          pet_type: lora
          lora_rank: 4
          lora_alpha: 8
          lora_dropout: 0.1
          target_modules: [q_proj, v_proj, down_proj]
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // LoRA with dropout: the RNG state must be restored too
    public void A_run_stopped_and_resumed_equals_an_uninterrupted_run(bool lora)
    {
        using var dir = new TempDir();
        var model = TestAssets.Reference("qwen2_tied", "model");
        var data = TrainerFixtures.RandomDataset(dir.Path, rows: 22);
        string Yaml(string output, bool resume) => TrainerFixtures.Yaml(model, data, output, lr: 2e-3, maxSteps: 9, batch: 2,
            accumulation: 2, shuffle: true, saveSteps: 4, lora: lora ? LoraWithDropout : null, resume: resume);

        var straight = new RecordingSink();
        new Trainer(TrainerFixtures.Load(Yaml(dir["a"], false), dir.Path), straight).Run(CancellationToken.None);

        // Cancel after step 6 (between the checkpoints at 4 and 8): the cancel saves step 6.
        using var cancel = new CancellationTokenSource();
        var first = new RecordingSink(step => { if (step.Step == 6) cancel.Cancel(); });
        var stopped = new Trainer(TrainerFixtures.Load(Yaml(dir["b"], false), dir.Path), first).Run(cancel.Token);
        Assert.Equal(TrainingPhase.Cancelled, stopped.Outcome);
        Assert.Equal(6, stopped.Steps);
        Assert.EndsWith("step-6", stopped.LastCheckpoint);

        var second = new RecordingSink();
        var resumed = new Trainer(TrainerFixtures.Load(Yaml(dir["b"], true), dir.Path), second).Run(CancellationToken.None);
        Assert.Equal(TrainingPhase.Succeeded, resumed.Outcome);
        Assert.Equal([7L, 8, 9], second.Steps.Select(s => s.Step));

        var expected = straight.Steps.Select(s => s.Loss).ToArray();
        var actual = first.Steps.Concat(second.Steps).Select(s => s.Loss).ToArray();
        Assert.Equal(expected, actual);                                  // bit-exact, step by step
        AssertSameWeights(Path.Combine(dir["a"], "checkpoints", "step-9"), Path.Combine(dir["b"], "checkpoints", "step-9"));
    }

    [Fact]
    public void A_failure_saves_the_last_completed_step_as_an_emergency_checkpoint()
    {
        using var dir = new TempDir();
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference("llama", "model"), TrainerFixtures.RandomDataset(dir.Path, rows: 10),
            dir["out"], lr: 1e-3, maxSteps: 8, saveSteps: 2);
        var sink = new RecordingSink(step => { if (step.Step == 3) throw new IOException("disk went away"); });
        var error = Assert.Throws<IOException>(() => new Trainer(TrainerFixtures.Load(yaml, dir.Path), sink).Run(CancellationToken.None));
        Assert.Equal("disk went away", error.Message);

        var state = TrainerState.Read(Path.Combine(dir["out"], "checkpoints", "step-3", CheckpointStore.StateFileName));
        Assert.True(state.Emergency);
        Assert.Equal(3, state.GlobalStep);
        Assert.Contains(sink.Events, e => e is CheckpointEvent { Kind: CheckpointKind.Emergency, Step: 3 });
        Assert.Contains(sink.Events, e => e is PhaseEvent { Phase: TrainingPhase.Failed });

        // Resuming continues from the emergency checkpoint.
        var resumed = new RecordingSink();
        new Trainer(TrainerFixtures.Load(yaml.Replace("resume_training: False", "resume_training: True"), dir.Path), resumed).Run(CancellationToken.None);
        Assert.Equal(4, resumed.Steps[0].Step);
    }

    [Fact]
    public void A_corrupt_newest_checkpoint_is_skipped_with_a_warning()
    {
        using var dir = new TempDir();
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference("qwen2_untied", "model"), TrainerFixtures.RandomDataset(dir.Path, rows: 10),
            dir["out"], lr: 1e-3, maxSteps: 4, saveSteps: 2);
        new Trainer(TrainerFixtures.Load(yaml, dir.Path), new RecordingSink()).Run(CancellationToken.None);
        var newest = Path.Combine(dir["out"], "checkpoints", "step-4");
        File.WriteAllBytes(Path.Combine(newest, TrainerCheckpoints.OptimizerFile), [1, 2, 3, 4]);

        var sink = new RecordingSink();
        var more = yaml.Replace("resume_training: False", "resume_training: True").Replace("max_steps: 4", "max_steps: 5");
        new Trainer(TrainerFixtures.Load(more, dir.Path), sink).Run(CancellationToken.None);
        Assert.Equal([3L, 4, 5], sink.Steps.Select(s => s.Step));
        Assert.Contains(sink.Events, e => e is LogEvent { Level: TrainingLogLevel.Warning } w && w.Message.Contains("step-4"));
    }

    [Fact]
    public void Retention_keeps_the_newest_checkpoints_and_state_records_the_cursor()
    {
        using var dir = new TempDir();
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference("qwen2_tied", "model"), TrainerFixtures.RandomDataset(dir.Path, rows: 9),
            dir["out"], lr: 1e-3, maxSteps: 7, saveSteps: 2, keep: 2, shuffle: true);
        new Trainer(TrainerFixtures.Load(yaml, dir.Path), new RecordingSink()).Run(CancellationToken.None);
        var folders = Directory.GetDirectories(Path.Combine(dir["out"], "checkpoints")).Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(["step-6", "step-7"], folders);
        var state = TrainerState.Read(Path.Combine(dir["out"], "checkpoints", "step-7", CheckpointStore.StateFileName));
        // 9 rows in batches of 2 with drop_remainder (the MindFormers default): 4 batches an epoch, so step 7 is
        // the third batch of epoch 1 and the cursor stands 6 samples into it.
        Assert.Equal((1, 6), (state.Epoch, state.SamplesInEpoch));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir["out"], "checkpoints", "step-7", "config.json")));
        Assert.Equal("qwen2", doc.RootElement.GetProperty("model_type").GetString());
    }

    static void AssertSameWeights(string a, string b)
    {
        foreach (var file in Directory.GetFiles(a, "*.safetensors").Select(Path.GetFileName))
        {
            using var x = SafeTensorsFile.Open(Path.Combine(a, file!));
            using var y = SafeTensorsFile.Open(Path.Combine(b, file!));
            Assert.Equal(x.Tensors.Keys.Order(), y.Tensors.Keys.Order());
            foreach (var name in x.Tensors.Keys)
            {
                using var p = x.Read(name);
                using var q = y.Read(name);
                Assert.True(p.equal(q).all().item<bool>(), $"{file}: {name} differs");
            }
        }
    }
}
