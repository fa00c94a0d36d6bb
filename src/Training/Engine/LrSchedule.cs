namespace Sft.Training.Engine;

public enum LrScheduleKind { Constant, Linear, Cosine }

/// <summary>
/// Learning rate as a pure function of the update index (0 for the first update), so a resumed run
/// needs nothing but its step count. Warm-up rises linearly from 0 (Hugging Face's
/// <c>get_*_schedule_with_warmup</c>: update k of W warm-up updates uses lr·k/W); then constant, linear
/// decay to <see cref="EndLr"/> at <see cref="TotalSteps"/>, or a half cosine down to <see cref="EndLr"/>
/// (MindFormers' CosineWithWarmUpLR with lr_end; HF's cosine when EndLr is 0).
/// </summary>
public sealed record LrSchedule(LrScheduleKind Kind, double PeakLr, long TotalSteps, long WarmupSteps = 0, double EndLr = 0)
{
    public double At(long step)
    {
        if (step < WarmupSteps) return PeakLr * step / Math.Max(1, WarmupSteps);
        if (Kind == LrScheduleKind.Constant) return PeakLr;
        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return Kind switch
        {
            LrScheduleKind.Linear => EndLr + (PeakLr - EndLr) * (1 - progress),
            _ => EndLr + 0.5 * (PeakLr - EndLr) * (1 + Math.Cos(Math.PI * progress)),
        };
    }
}
