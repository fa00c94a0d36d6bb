using Sft.Training.Config;
using Sft.Web.Cli;

namespace Sft.Web.Tests.Cli;

public sealed class CheckConfigCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("sft-check-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Output) Run(params string[] args)
    {
        var output = new StringWriter();
        var code = CheckConfigCommand.Run(args, output);
        return (code, output.ToString());
    }

    [Fact]
    public void IsRegistered() => Assert.True(CliCommands.TryGet("check-config", out _));

    [Fact]
    public void AValidExamplePrintsItsReportAndExitsZero()
    {
        var (code, output) = Run("--example", ExampleConfigs.DemoTiny);

        Assert.Equal(0, code);
        Assert.StartsWith("Config is valid (2 warnings, 0 ignored keys).", output);
        Assert.Contains("demo_tiny.yaml:7:18: warning: load_checkpoint: 'builtin:demo-tiny' is resolved by the server", output);
    }

    [Fact]
    public void ErrorsFromTheFileAndFromOverridesExitOne()
    {
        var file = Path.Combine(_dir, "job.yaml");
        File.WriteAllText(file, ExampleConfigs.Read(ExampleConfigs.DemoTiny).Replace("  batch_size: 4", "  batch_sise: 4"));

        var (code, output) = Run("--config", file, "--set", "optimizer.eps=-1");

        Assert.Equal(1, code);
        Assert.Contains("job.yaml:15:3: error: runner_config.batch_sise: unknown key 'batch_sise' in runner_config. Did you mean 'batch_size'?", output);
        Assert.Contains("--set optimizer.eps=-1:1:15: error: optimizer.eps: must be > 0, got -1.", output);
    }

    [Fact]
    public void TheGuideConfigOnEightGpusIsRefusedAndWithoutFileChecksItsMemoryIsStillEstimatedFromModelConfig()
    {
        var (code, output) = Run("--example", ExampleConfigs.Qwen25_7B, "--gpus", "8", "--no-files");

        Assert.Equal(1, code);
        Assert.Contains("error: parallel_config.pipeline_stage: pipeline_stage 2 (pipeline parallelism) is not supported", output);
        Assert.Contains("7,615,616,512 parameters", output);
    }

    [Fact]
    public void BadUsageIsAUsageError()
    {
        Assert.Throws<CliUsageException>(() => Run());
        Assert.Throws<CliUsageException>(() => Run("--gpus", "many", "--config", "x.yaml"));
        Assert.Throws<CliUsageException>(() => Run("--example", "nope.yaml"));
    }
}
