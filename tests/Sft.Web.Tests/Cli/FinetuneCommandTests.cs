using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sft.Training.Checkpoints;
using Sft.Training.Config;
using Sft.Training.Tests;
using Sft.Training.Tests.Engine;
using Sft.Web.Cli;
using static TorchSharp.torch;

namespace Sft.Web.Tests.Cli;

/// <summary><c>finetune</c>: the headless run, as a user starts it.</summary>
public partial class FinetuneCommandTests
{
    static async Task<(int Code, string Out, string Err)> Finetune(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = await FinetuneCommand.RunAsync(args, output, error, new ConsoleProgressSink(output, interactive: false));
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>The shipped demo config, written into <paramref name="dir"/>; returns its path.</summary>
    static string DemoConfig(TempDir dir)
    {
        var config = dir["demo_tiny.yaml"];
        File.WriteAllText(config, ExampleConfigs.Read("demo_tiny.yaml"));
        return config;
    }

    /// <summary><c>finetune</c>'s arguments for the demo config in <paramref name="dir"/> (data and output there too), then <c>--set</c> for each of <paramref name="settings"/>.</summary>
    static string[] DemoRun(TempDir dir, params string[] settings) =>
        ["--config", DemoConfig(dir), "--data-dir", dir["data"], "--set", $"output_dir={dir["out"]}", .. settings.SelectMany(s => new[] { "--set", s })];

    [GeneratedRegex(@"^step (\d+)/\d+ epoch \d+ loss ([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex StepLine();

    [GeneratedRegex(@"^eval  step (\d+): loss ([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex EvalLine();

    static double[] Values(Regex regex, string text) =>
        regex.Matches(text).Select(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The shipped demo config on the Alpaca demo data learns: training loss falls well below its start and eval loss falls.</summary>
    [Fact]
    public async Task The_demo_config_learns_on_the_alpaca_demo_data()
    {
        using var dir = new TempDir();
        var (code, output, error) = await Finetune(DemoRun(dir, "runner_config.max_steps=30", "eval_step_interval=10"));
        Assert.True(code == 0, error + output);

        var losses = Values(StepLine(), output);
        Assert.Equal(30, losses.Length);
        Assert.InRange(losses[0], 11.0, 12.5);                   // ln(151,936) ≈ 11.93: an untrained model
        Assert.True(losses[^5..].Average() < losses[0] - 2.0, $"loss {losses[0]:F3} -> last five {losses[^5..].Average():F3}");
        var evals = Values(EvalLine(), output);
        Assert.True(evals.Length >= 2, output);
        Assert.True(evals[^1] < evals[0] - 0.5, $"eval loss {string.Join(" -> ", evals)}");
        Assert.Contains("Training finished.", output);
        Assert.True(Directory.Exists(Path.Combine(dir["out"], "checkpoints", "step-30")));
    }

    [Fact]
    public async Task An_invalid_config_exits_2_naming_the_key_and_line()
    {
        using var dir = new TempDir();
        var config = dir["bad.yaml"];
        File.WriteAllText(config, ExampleConfigs.Read("demo_tiny.yaml").Replace("learning_rate:", "learnig_rate:"));
        var (code, _, error) = await Finetune("--config", config, "--data-dir", dir["data"]);
        Assert.Equal(2, code);
        Assert.Matches(@"demo_tiny\.yaml|bad\.yaml", error);
        Assert.Contains("learnig_rate", error);
        Assert.Contains("learning_rate", error);
    }

    /// <summary>
    /// The origin's promise: a run killed outright (SIGKILL, no chance to save) and started again with
    /// resume_training ends with exactly the weights of a run that was never interrupted.
    /// </summary>
    [Fact]
    public async Task A_finetune_process_killed_with_SIGKILL_resumes_to_the_same_weights()
    {
        using var dir = new TempDir();
        var model = TestAssets.Reference("qwen2_tied", "model");
        var data = TrainerFixtures.RandomDataset(dir.Path, rows: 40);
        string Config(string name, string output)
        {
            var path = dir[name];
            File.WriteAllText(path, TrainerFixtures.Yaml(model, data, output, lr: 2e-3, maxSteps: 40, batch: 2, accumulation: 2, shuffle: true, saveSteps: 3, keep: 3));
            return path;
        }

        var (code, output, error) = await Finetune("--config", Config("straight.yaml", dir["a"]));
        Assert.True(code == 0, error + output);

        var killed = Config("killed.yaml", dir["b"]);
        var web = Path.Combine(AppContext.BaseDirectory, "Sft.Web.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", web, "finetune", "--config", killed]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using (var process = Process.Start(start)!)
        {
            _ = process.StandardError.ReadToEndAsync();
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync()) is not null)
                if (line.StartsWith("saved full checkpoint of step 9", StringComparison.Ordinal)) break;
            Assert.NotNull(line);
            process.Kill();                                     // SIGKILL: nothing runs after this
            await process.WaitForExitAsync();
            Assert.Equal(137, process.ExitCode);
        }
        var checkpoints = Directory.GetDirectories(Path.Combine(dir["b"], "checkpoints"), "step-*");
        Assert.DoesNotContain(checkpoints, c => c.EndsWith("step-40"));

        (code, output, error) = await Finetune("--config", killed, "--set", "resume_training=True");
        Assert.True(code == 0, error + output);
        Assert.Matches(@"resumed from .*step-\d+", output);

        foreach (var file in new[] { "model.safetensors", TrainerCheckpointsFile })
        {
            using var expected = SafeTensorsFile.Open(Path.Combine(dir["a"], "checkpoints", "step-40", file));
            using var actual = SafeTensorsFile.Open(Path.Combine(dir["b"], "checkpoints", "step-40", file));
            foreach (var name in expected.Tensors.Keys)
            {
                using var x = expected.Read(name);
                using var y = actual.Read(name);
                Assert.True(x.equal(y).all().item<bool>(), $"{file}: {name} differs after the kill and resume");
            }
        }
    }

    const string TrainerCheckpointsFile = Sft.Training.Engine.TrainerCheckpoints.OptimizerFile;

    /// <summary>Under glibc (this test process) the run says so, and trims what setup freed before the first step.</summary>
    [Fact]
    public async Task The_run_names_its_heap_allocator()
    {
        using var dir = new TempDir();
        var (code, output, error) = await Finetune(DemoRun(dir, "runner_config.max_steps=2", "do_eval=False"));
        Assert.True(code == 0, error + output);
        Assert.Contains("heap: glibc malloc; memory freed by setup was returned to the system", output);
    }

    /// <summary>
    /// Under jemalloc (preloaded, as the Docker image runs), the training loop turns off the return of freed pages to
    /// the kernel, so that a step does not fault in again what the last one freed, and restores it afterwards: the
    /// run's log reads the setting back from jemalloc while the loop runs.
    /// </summary>
    [Fact]
    public async Task Under_jemalloc_the_training_loop_keeps_freed_pages_and_restores_the_decay_after()
    {
        Assert.True(File.Exists("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2") || File.Exists("/usr/lib/aarch64-linux-gnu/libjemalloc.so.2"),
            "libjemalloc2 is not installed (apt-get install libjemalloc2; .ci/run installs it)");
        using var dir = new TempDir();
        var environment = new Dictionary<string, string> { ["LD_PRELOAD"] = "libjemalloc.so.2", ["MALLOC_CONF"] = "narenas:1,dirty_decay_ms:7000" };
        var (code, output, error) = await ServerProcess.RunCliAsync(dir["data"], environment,
            ["finetune", .. DemoRun(dir, "runner_config.max_steps=2", "do_eval=False")]);
        Assert.True(code == 0, error + output);
        Assert.Contains("heap: jemalloc; freed pages are kept for the next step while training (dirty decay -1 ms, 7000 ms again afterwards)", output);
    }
}

public class MergeLoraCommandTests
{
    [Fact]
    public void Merging_the_reference_adapter_gives_the_reference_merged_model()
    {
        using var dir = new TempDir();
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = MergeLoraCommand.Run(["--base", TestAssets.Reference("qwen2_untied", "model"), "--adapter", TestAssets.Reference("qwen2_untied", "lora_init"),
            "--out", dir["merged"]], output, error);
        Assert.True(code == 0, error.ToString());
        Assert.Contains("Merged 4 LoRA layers", output.ToString());
        using var expected = WeightSource.Open(TestAssets.Reference("qwen2_untied", "lora_merged_init"));
        using var actual = WeightSource.Open(dir["merged"]);
        Assert.Equal(expected.Names.Order(), actual.Names.Order());        // no lora_A/lora_B keys left
        foreach (var name in expected.Names)
        {
            using var a = expected.Read(name);
            using var b = actual.Read(name);
            Assert.True((a - b).abs().max().item<float>() < 1e-6, name);
        }
        using var model = HfModelFolder.Load(dir["merged"]);
    }

    [Fact]
    public void A_folder_that_is_not_an_adapter_is_named()
    {
        using var dir = new TempDir();
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = MergeLoraCommand.Run(["--base", TestAssets.Reference("qwen2_untied", "model"), "--adapter", TestAssets.Reference("qwen2_untied", "model"),
            "--out", dir["merged"]], output, error);
        Assert.Equal(1, code);
        Assert.Contains("adapter_config.json", error.ToString());
        Assert.False(Directory.Exists(dir["merged"]));
    }
}
