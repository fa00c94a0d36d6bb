using System.Globalization;
using Sft.Training.Engine;

namespace Sft.Web.Cli;

/// <summary>
/// Shows a headless run in a terminal: a progress bar redrawn in place on a TTY (a plain line per
/// logged step when output is redirected), log and checkpoint lines, and the numbers a summary needs.
/// </summary>
public sealed class ConsoleProgressSink(TextWriter output, bool interactive) : ITrainingEventSink
{
    readonly Lock _lock = new();
    bool _barShown;

    public StepEvent? LastStep { get; private set; }
    public EvalEvent? LastEval { get; private set; }
    public double? FirstLoss { get; private set; }
    public List<CheckpointEvent> Checkpoints { get; } = [];

    public static ConsoleProgressSink ForConsole() => new(Console.Out, !Console.IsOutputRedirected);

    public void Publish(TrainingEvent trainingEvent)
    {
        lock (_lock)
        {
            switch (trainingEvent)
            {
                case StepEvent step:
                    LastStep = step;
                    FirstLoss ??= step.Loss;
                    if (interactive) { output.Write("\r" + Bar(step)); _barShown = true; }
                    else output.WriteLine(Line(step));
                    break;
                case EvalEvent eval:
                    LastEval = eval;
                    WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"eval  step {eval.Step}: loss {eval.Loss:F4}, perplexity {eval.Perplexity:F2} over {eval.LossTokens} tokens"));
                    foreach (var sample in eval.Samples.Take(2))
                        WriteLine($"      {Shorten(sample.Prompt, 60)} -> {Shorten(sample.Completion, 80)}");
                    break;
                case CheckpointEvent checkpoint:
                    Checkpoints.Add(checkpoint);
                    WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"saved {checkpoint.Kind.ToString().ToLowerInvariant()} checkpoint of step {checkpoint.Step} ({checkpoint.Bytes / 1e6:F1} MB): {checkpoint.Path}"));
                    break;
                case LogEvent log when log.Level >= TrainingLogLevel.Info:
                    WriteLine(log.Level == TrainingLogLevel.Info ? log.Message : $"{log.Level.ToString().ToLowerInvariant()}: {log.Message}");
                    break;
                case PhaseEvent phase when phase.Detail is not null:
                    WriteLine($"[{phase.Phase.ToString().ToLowerInvariant()}] {phase.Detail}");
                    break;
            }
        }
    }

    void WriteLine(string text)
    {
        if (_barShown) { output.Write("\r\x1b[2K"); _barShown = false; }
        output.WriteLine(text);
        if (interactive && LastStep is { } step) { output.Write(Bar(step)); _barShown = true; }
    }

    static string Bar(StepEvent s)
    {
        const int width = 28;
        var filled = (int)Math.Round(width * Math.Clamp(s.Progress, 0, 1));
        return string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('.', width - filled)}] {s.Step}/{s.TotalSteps} loss {s.Loss:F4} lr {s.LearningRate:0.##E+0} {s.TokensPerSecond:F0} tok/s ETA {Eta(s.Eta)}   ");
    }

    static string Line(StepEvent s) => string.Create(CultureInfo.InvariantCulture,
        $"step {s.Step}/{s.TotalSteps} epoch {s.Epoch} loss {s.Loss:F4} lr {s.LearningRate:0.###E+0} grad_norm {s.GradNorm:F3} {s.TokensPerSecond:F0} tok/s rss {s.Memory.ProcessRss / 1e6:F0} MB ETA {Eta(s.Eta)}");

    static string Eta(TimeSpan? eta) => eta is { } t ? (t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss")) : "-";

    static string Shorten(string text, int max)
    {
        var flat = text.ReplaceLineEndings(" ");
        return flat.Length <= max ? flat : flat[..(max - 1)] + "…";
    }

    /// <summary>Ends the progress line so later output starts on a fresh line.</summary>
    public void Finish()
    {
        lock (_lock)
            if (_barShown) { output.WriteLine(); _barShown = false; }
    }
}
