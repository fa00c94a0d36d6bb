using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Sft.Training.Config;
using Sft.Training.Engine;

namespace Sft.Web.Cli;

/// <summary>
/// <c>finetune --config FILE.yaml [--set key.path=value ...] [--data-dir DIR]</c>: runs one job in the
/// foreground (the origin's <c>run_mindformer.py --run_mode finetune</c>) with a progress bar and a summary.
/// Exit codes: 0 succeeded, 1 failed, 2 invalid config or usage, 130 cancelled (Ctrl+C / SIGTERM, after
/// saving the last completed step).
/// </summary>
public static class FinetuneCommand
{
    const string Name = "finetune";

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error, ConsoleProgressSink.ForConsole());

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, ConsoleProgressSink progress)
    {
        var options = CliArgs.Parse(Name, args, ["config", "set", "data-dir"]);
        var configPath = options.Require(Name, "config");
        var dataDir = options.Get("data-dir") ?? DataDirectory.Default();
        var load = TrainConfigLoader.LoadFile(configPath, new ConfigLoadOptions
        {
            Overrides = options.GetAll("set"),
            Builtins = new Builtins(dataDir),
            AvailableCudaDevices = DeviceSelector.CudaDeviceCount,
        });
        var report = load.Validation.Format();
        if (!load.IsValid)
        {
            error.Write(report);
            return 2;
        }
        output.Write(report);
        var config = load.Config!;

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCtrlC = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCtrlC;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await new Trainer(config, progress, File.ReadAllText(configPath)).RunAsync(cancel.Token);
            progress.Finish();
            Summarize(output, result, progress, config, clock.Elapsed);
            return result.Outcome == TrainingPhase.Succeeded ? 0 : 130;
        }
        catch (Exception e)
        {
            progress.Finish();
            error.WriteLine($"{Name}: training failed: {e.Message}");
            if (progress.Checkpoints.LastOrDefault() is { } last)
                error.WriteLine($"{Name}: the last completed step is saved in {last.Path}; set resume_training: True to continue from it.");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }

    static void Summarize(TextWriter output, TrainResult result, ConsoleProgressSink progress, TrainConfig config, TimeSpan elapsed)
    {
        var ci = CultureInfo.InvariantCulture;
        output.WriteLine(result.Outcome == TrainingPhase.Succeeded ? "Training finished." : $"Training {result.Outcome.ToString().ToLowerInvariant()}.");
        output.WriteLine(string.Create(ci, $"  steps          {result.Steps} of {result.TotalSteps}"));
        if (progress.FirstLoss is { } first && result.LastLoss is { } last)
            output.WriteLine(string.Create(ci, $"  loss           {first:F4} -> {last:F4}"));
        if (result.LastEvalLoss is { } eval)
            output.WriteLine(string.Create(ci, $"  eval loss      {eval:F4} (perplexity {Math.Exp(Math.Min(eval, 50)):F2})"));
        if (progress.LastStep is { } step)
            output.WriteLine(string.Create(ci, $"  throughput     {step.TokensPerSecond:F0} tokens/s, peak RSS {step.Memory.ProcessPeakRss / 1e6:F0} MB"));
        output.WriteLine(string.Create(ci, $"  time           {elapsed:hh\\:mm\\:ss}"));
        output.WriteLine($"  output         {Path.GetFullPath(config.Run.OutputDir)}");
        if (result.LastCheckpoint is { } checkpoint) output.WriteLine($"  last checkpoint {checkpoint}");
    }
}

/// <summary>The data folder (models, datasets, jobs): <c>Sft__DataDir</c> / <c>SFT_DATA_DIR</c>, else <c>data/</c> under the content root.</summary>
public static class DataDirectory
{
    public static string Default() =>
        Environment.GetEnvironmentVariable("Sft__DataDir") is { Length: > 0 } configured ? Path.GetFullPath(configured)
        : Environment.GetEnvironmentVariable("SFT_DATA_DIR") is { Length: > 0 } env ? Path.GetFullPath(env)
        : Path.Combine(ContentRoot.Find(), "data");
}
