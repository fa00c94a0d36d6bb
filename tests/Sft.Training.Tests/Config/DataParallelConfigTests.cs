using Sft.Training.Config;

namespace Sft.Training.Tests.Config;

/// <summary><c>devices</c> with <c>use_parallel</c> and <c>parallel_config</c>: what trains data-parallel, and the errors
/// (naming the key) when the three disagree or another parallel mode is asked for.</summary>
public sealed class DataParallelConfigTests : IDisposable
{
    readonly TempModelFolder _model = new(TestFiles.Qwen25_7BConfig);

    public void Dispose() => _model.Dispose();

    string Config(string body) => $"""
        load_checkpoint: '{_model.Path}'
        train_dataset:
          data_loader:
            type: CommonDataLoader
            path: llm-wizard/alpaca-gpt4-data
            handler:
              - type: AlpacaInstructDataHandler
                seq_length: 1024
        lr_schedule:
          type: cosine
          learning_rate: 1.e-5
        {body}
        """;

    const string TwoCpus = "devices: [cpu, cpu]\nuse_parallel: True\nparallel_config:\n  data_parallel: 2\n";

    static ConfigLoadResult Load(string yaml, int gpus = 0) =>
        TrainConfigLoader.Load(yaml, new ConfigLoadOptions { SourceName = "job.yaml", AvailableCudaDevices = gpus });

    static ConfigIssue Error(ConfigLoadResult result, string path)
    {
        Assert.False(result.IsValid);
        return Assert.Single(result.Validation.Errors, e => e.Path == path);
    }

    [Fact]
    public void Two_cpu_replicas_validate_with_the_first_device_as_primary()
    {
        var result = Load(Config(TwoCpus));

        Assert.True(result.IsValid, result.Validation.Format());
        var c = result.Config!;
        Assert.Equal(new ParallelSection(2, 2), c.Parallel);
        Assert.Equal(new DeviceSpec(DeviceKind.Cpu), c.Run.Device);
        Assert.Equal([new DeviceSpec(DeviceKind.Cpu), new DeviceSpec(DeviceKind.Cpu)], c.ReplicaDevices);
        Assert.DoesNotContain(result.Validation.Warnings, w => w.Path.StartsWith("parallel_config", StringComparison.Ordinal));
    }

    [Fact]
    public void Listed_gpus_are_the_replicas_and_the_first_is_the_primary()
    {
        var result = Load(Config(TwoCpus.Replace("[cpu, cpu]", "[cuda:1, cuda:0]")), gpus: 2);

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Equal(new DeviceSpec(DeviceKind.Cuda, 1), result.Config!.Run.Device);
        Assert.Equal([new DeviceSpec(DeviceKind.Cuda, 1), new DeviceSpec(DeviceKind.Cuda, 0)], result.Config.ReplicaDevices);
    }

    [Fact]
    public void Data_parallel_must_match_the_devices_listed()
    {
        var error = Error(Load(Config(TwoCpus.Replace("data_parallel: 2", "data_parallel: 3"))), "parallel_config.data_parallel");

        Assert.Equal("data_parallel 3 does not match devices, which lists 2 ([cpu, cpu]).", error.Message);
        Assert.Equal("set data_parallel: 2, or list 3 devices in devices.", error.Hint);
        Assert.Equal((15, 18), (error.Line, error.Column));
    }

    [Fact]
    public void Several_devices_need_use_parallel_and_a_parallel_config()
    {
        var noFlag = Error(Load(Config(TwoCpus.Replace("use_parallel: True\n", ""))), "devices");
        Assert.Contains("use_parallel is not True", noFlag.Message);
        Assert.Contains("set use_parallel: True (with parallel_config.data_parallel: 2)", noFlag.Hint);

        var off = Error(Load(Config(TwoCpus.Replace("use_parallel: True", "use_parallel: False"))), "use_parallel");
        Assert.Contains("only one would train", off.Message);

        var noSection = Error(Load(Config("devices: [cpu, cpu]\nuse_parallel: True\n")), "devices");
        Assert.Contains("no parallel_config.data_parallel", noSection.Message);
        Assert.Contains("parallel_config: {data_parallel: 2}", noSection.Hint);
    }

    [Theory]
    [InlineData("model_parallel", "tensor parallelism")]
    [InlineData("pipeline_stage", "pipeline parallelism")]
    [InlineData("context_parallel", "sequence parallelism")]
    public void Other_parallel_modes_are_refused_saying_data_parallel_is_supported(string key, string what)
    {
        var error = Error(Load(Config(TwoCpus + $"  {key}: 2\n")), $"parallel_config.{key}");

        Assert.Equal($"{key} 2 ({what}) is not supported: SFT Studio trains data-parallel only (parallel_config.data_parallel), each device holding the whole model.",
            error.Message);
        Assert.Equal($"set {key}: 1 and data_parallel to the number of devices listed in devices (2).", error.Hint);
    }

    [Fact]
    public void Device_lists_name_each_device_once_and_of_one_kind()
    {
        Assert.Contains("listed twice", Error(Load(Config(TwoCpus.Replace("[cpu, cpu]", "[cuda:0, cuda:0]")), gpus: 2), "devices[1]").Message);
        Assert.Contains("mixes Cuda with Cpu", Error(Load(Config(TwoCpus.Replace("[cpu, cpu]", "[cpu, cuda:0]")), gpus: 1), "devices[1]").Message);
        Assert.Equal("list each device explicitly: cpu or cuda:N.", Error(Load(Config(TwoCpus.Replace("[cpu, cpu]", "[auto, cpu]"))), "devices[0]").Hint);
        Assert.Contains("this machine has 2 CUDA device(s)", Error(Load(Config(TwoCpus.Replace("[cpu, cpu]", "[cuda:0, cuda:2]")), gpus: 2), "devices[1]").Message);
        Assert.Contains("needs a CUDA GPU", Error(Load(Config(TwoCpus.Replace("[cpu, cpu]", "[cuda:0, cuda:1]"))), "devices[0]").Message);

        var clash = Error(Load(Config("device: cuda:1\n" + TwoCpus.Replace("[cpu, cpu]", "[cuda:0, cuda:1]")), gpus: 2), "device");
        Assert.Contains("disagrees with devices [cuda:0, cuda:1]", clash.Message);
        Assert.True(Load(Config("device: cuda:0\n" + TwoCpus.Replace("[cpu, cpu]", "[cuda:0, cuda:1]")), gpus: 2).IsValid);
        var auto = Load(Config("device: auto\n" + TwoCpus));   // the examples write device: auto; devices decides
        Assert.True(auto.IsValid, auto.Validation.Format());
        Assert.Equal(new DeviceSpec(DeviceKind.Cpu), auto.Config!.Run.Device);
    }

    [Fact]
    public void One_listed_device_trains_alone_and_says_the_layout_is_not_applied()
    {
        var result = Load(Config("devices: [cpu]\nparallel_config:\n  data_parallel: 4\n"));

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Equal(new ParallelSection(1, 4), result.Config!.Parallel);
        Assert.Equal([new DeviceSpec(DeviceKind.Cpu)], result.Config.ReplicaDevices);
        Assert.Contains("not applied: use_parallel is False", Assert.Single(result.Validation.Warnings, w => w.Path == "parallel_config").Message);
    }
}
