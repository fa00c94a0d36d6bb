using Sft.Training.Config;

namespace Sft.Web.Cli;

/// <summary>
/// <c>check-config --config FILE.yaml [--set key.path=value]... [--gpus N] [--example NAME] [--no-files]</c>:
/// validates a job config without running it and prints errors, warnings, ignored keys and the memory
/// estimate. Exit code 0 when valid, 1 when not.
/// </summary>
public static class CheckConfigCommand
{
    public const string Name = "check-config";

    public static Task<int> Run(string[] args) => Task.FromResult(Run(args, Console.Out));

    public static int Run(string[] args, TextWriter output)
    {
        var cli = CliArgs.Parse(Name, args, ["config", "set", "gpus", "example"], ["no-files"]);
        var gpus = 0;
        if (cli.Get("gpus") is { } g && (!int.TryParse(g, out gpus) || gpus < 0))
            throw new CliUsageException($"{Name}: --gpus needs a number of CUDA devices (0 or more), got '{g}'.");
        var options = new ConfigLoadOptions
        {
            Overrides = cli.GetAll("set"),
            AvailableCudaDevices = gpus,
            CheckFileSystem = !cli.Has("no-files"),
        };

        ConfigLoadResult result;
        if (cli.Get("example") is { } example)
        {
            if (!ExampleConfigs.Names.Contains(example))
                throw new CliUsageException($"{Name}: no example '{example}'. Examples: {string.Join(", ", ExampleConfigs.Names)}.");
            result = TrainConfigLoader.Load(ExampleConfigs.Read(example), options with { SourceName = example });
        }
        else result = TrainConfigLoader.LoadFile(cli.Require(Name, "config"), options);

        output.Write(result.Validation.Format());
        return result.IsValid ? 0 : 1;
    }
}
