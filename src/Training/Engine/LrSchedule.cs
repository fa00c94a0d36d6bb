using Sft.Training.Config;

namespace Sft.Training.Engine;

/// <summary>
/// Learning rate as a pure function of the update index (0 for the first update), so a resumed run
/// needs nothing but its step count. Warm-up rises linearly from <see cref="WarmupInitLr"/> (Hugging Face's
/// <c>get_*_schedule_with_warmup</c> with 0: update k of W warm-up updates uses lr·k/W); then constant,
/// linear decay, or cosine (MindFormers' CosineWithWarmUpLR: <c>lr_end + ½(lr − lr_end)(1 + cos(2π·cycles·progress))</c>,
/// HF's cosine when lr_end is 0 and cycles 0.5) over <see cref="DecaySteps"/>, then held at <see cref="EndLr"/>.
/// </summary>
public sealed record LrSchedule(
    LrScheduleKind Kind, double PeakLr, long TotalSteps, long WarmupSteps = 0, double EndLr = 0,
    double WarmupInitLr = 0, long? DecaySteps = null, double NumCycles = 0.5)
{
    public static LrSchedule From(LrScheduleSection s, long runSteps)
    {
        var total = s.TotalSteps ?? runSteps;
        return new LrSchedule(s.Kind, s.LearningRate, total, s.WarmupFor((int)Math.Min(int.MaxValue, total)), s.LrEnd,
            s.WarmupLrInit, s.DecaySteps, s.NumCycles);
    }

    public double At(long step)
    {
        if (step < WarmupSteps) return WarmupInitLr + (PeakLr - WarmupInitLr) * step / Math.Max(1, WarmupSteps);
        if (Kind == LrScheduleKind.Constant) return PeakLr;
        var decaySteps = Math.Max(1, DecaySteps ?? TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return Kind switch
        {
            LrScheduleKind.Linear => EndLr + (PeakLr - EndLr) * (1 - progress),
            _ => EndLr + 0.5 * (PeakLr - EndLr) * (1 + Math.Cos(Math.PI * 2 * NumCycles * progress)),
        };
    }
}
