using Sft.Training.Engine;

namespace Sft.Web.Tests.Live;

/// <summary>Training events as the trainer emits them, with numbers that differ per step.</summary>
public static class TrainingEvents
{
    public static StepEvent Step(long step, long totalSteps = 100, double? loss = null) => new(
        Step: step, TotalSteps: totalSteps, Epoch: 1, EpochProgress: step / (double)totalSteps,
        Loss: loss ?? 3.0 / step, LearningRate: 1e-4 * (1 - step / (double)totalSteps), GradNorm: 0.5 + step / 100.0,
        Tokens: 1000 + step, LossTokens: 600 + step, Samples: 4, StepSeconds: 0.25,
        TokensPerSecond: 4000 + step, SamplesPerSecond: 16, Memory: new MemorySnapshot(200_000_000 + step, 250_000_000),
        Eta: TimeSpan.FromSeconds((totalSteps - step) * 0.25));
}
