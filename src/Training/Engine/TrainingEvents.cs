namespace Sft.Training.Engine;

/// <summary>
/// Everything a run reports leaves the engine as one of these, through <see cref="ITrainingEventSink"/>.
/// The engine knows nothing of SignalR or databases; the host turns events into rows and messages.
/// </summary>
public abstract record TrainingEvent
{
    public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>One optimizer update. Throughput figures count only the tokens that are not padding.</summary>
public sealed record StepEvent(
    long Step, long TotalSteps, int Epoch, double EpochProgress,
    double Loss, double LearningRate, double GradNorm,
    long Tokens, long LossTokens, int Samples, double StepSeconds,
    double TokensPerSecond, double SamplesPerSecond,
    MemorySnapshot Memory, TimeSpan? Eta) : TrainingEvent
{
    public double Progress => TotalSteps > 0 ? (double)Step / TotalSteps : 0;
}

/// <summary>An evaluation pass over the eval set, with a few sample generations.</summary>
public sealed record EvalEvent(long Step, double Loss, long LossTokens, IReadOnlyList<SampleGeneration> Samples) : TrainingEvent
{
    public double Perplexity => Math.Exp(Math.Min(Loss, 50));
}

public sealed record SampleGeneration(string Prompt, string Completion);

public enum CheckpointKind { Full, Adapter, Merged, Emergency }

/// <summary>A checkpoint folder that was completely written.</summary>
public sealed record CheckpointEvent(long Step, string Path, CheckpointKind Kind, long Bytes) : TrainingEvent;

public enum TrainingLogLevel { Debug, Info, Warning, Error }

public sealed record LogEvent(TrainingLogLevel Level, string Message) : TrainingEvent;

public enum TrainingPhase { Preparing, Training, Evaluating, Saving, Succeeded, Failed, Cancelled }

public sealed record PhaseEvent(TrainingPhase Phase, string? Detail = null) : TrainingEvent;

/// <summary>Process and device memory at one moment, in bytes (GPU figures only where known).</summary>
public sealed record MemorySnapshot(long ProcessRss, long ProcessPeakRss, long? GpuAllocated = null, long? GpuReserved = null)
{
    public static MemorySnapshot OfProcess()
    {
        long rss = Environment.WorkingSet, peak = rss;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = StatusBytes(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = StatusBytes(line);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new MemorySnapshot(rss, Math.Max(peak, rss));
    }

    /// <summary>Bytes from a <c>/proc/self/status</c> line such as <c>"VmRSS:\t  123456 kB"</c>. The kernel pads the
    /// number with spaces after the tab only up to 8 digits, so from about 9.5 GiB on there is no space before it.</summary>
    public static long StatusBytes(string line) =>
        long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
}

/// <summary>Where a run's events go. Called on the training thread: implementations must be quick
/// and thread-safe (queue, then return).</summary>
public interface ITrainingEventSink
{
    void Publish(TrainingEvent trainingEvent);
}
