using Sft.Training.Checkpoints;
using Sft.Training.Engine;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Engine;

public class TrainerAccumulationTests
{
    /// <summary>
    /// HF's normalisation: with accumulation the loss is summed over the micro-batches and divided by the counted
    /// tokens of the whole accumulated batch, so batch 1 × 2 micro-steps trains exactly like batch 2 (rows of unequal
    /// length, so a per-micro-batch mean would differ).
    /// </summary>
    [Fact]
    public void Two_micro_batches_of_one_equal_one_batch_of_two()
    {
        using var dir = new TempDir();
        var model = TestAssets.Reference("qwen2_untied", "model");
        var data = TrainerFixtures.RandomDataset(dir.Path, rows: 8, seed: 11);
        var whole = new RecordingSink();
        new Trainer(TrainerFixtures.Load(TrainerFixtures.Yaml(model, data, dir["whole"], lr: 1e-3, maxSteps: 4, batch: 2, accumulation: 1), dir.Path), whole)
            .Run(CancellationToken.None);
        var split = new RecordingSink();
        new Trainer(TrainerFixtures.Load(TrainerFixtures.Yaml(model, data, dir["split"], lr: 1e-3, maxSteps: 4, batch: 1, accumulation: 2), dir.Path), split)
            .Run(CancellationToken.None);

        Assert.Equal(whole.Steps.Select(s => s.LossTokens), split.Steps.Select(s => s.LossTokens));
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(whole.Steps[i].Loss - split.Steps[i].Loss) < 1e-5, $"step {i + 1}: {whole.Steps[i].Loss} vs {split.Steps[i].Loss}");
            Assert.True(Math.Abs(whole.Steps[i].GradNorm - split.Steps[i].GradNorm) < 1e-4, $"step {i + 1} grad norm");
        }
        using var a = WeightSource.Open(Path.Combine(dir["whole"], "checkpoints", "step-4"));
        using var b = WeightSource.Open(Path.Combine(dir["split"], "checkpoints", "step-4"));
        foreach (var name in a.Names)
        {
            using var x = a.Read(name);
            using var y = b.Read(name);
            Assert.True((x - y).abs().max().item<float>() < 1e-5, name);
        }
    }
}
