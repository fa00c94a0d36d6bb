using Sft.Training.Config;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Tests.Config;

public sealed class OverrideTests : IDisposable
{
    readonly TempModelFolder _model = new(TestFiles.Qwen25_7BConfig);

    public void Dispose() => _model.Dispose();

    string Guide => ExampleConfigs.Read(ExampleConfigs.Qwen25_7B).Replace("/path/to/Qwen2.5-7B", _model.Path);

    ConfigLoadResult Load(params string[] overrides) =>
        TrainConfigLoader.Load(Guide, new ConfigLoadOptions { SourceName = "guide.yaml", Overrides = overrides });

    [Fact]
    public void OverridesChangeValuesBeforeValidation()
    {
        var result = Load("optimizer.learning_rate=2e-5", "lr_schedule.learning_rate=2e-5", "lr_schedule.lr_end=0",
            "runner_config.gradient_accumulation_steps=4", "runner_config.max_steps=100", "device=cpu",
            "optimizer.betas=[0.9, 0.999]", "callbacks[1].keep_checkpoint_max=3",
            "train_dataset.data_loader.handler.0.seq_length=4096", "train_dataset.data_loader.handler[1].seq_length=4096",
            "model.model_config.seq_length=4096");

        Assert.True(result.IsValid, result.Validation.Format());
        var c = result.Config!;
        Assert.Equal(2e-5, c.Schedule.LearningRate);
        Assert.Equal(0, c.Schedule.LrEnd);
        Assert.Equal((4, (int?)100), (c.Loop.GradientAccumulationSteps, c.Loop.MaxSteps));
        Assert.Equal(new DeviceSpec(DeviceKind.Cpu), c.Run.Device);
        Assert.Equal(0.999, c.Optimizer.Beta2);
        Assert.Equal(3, c.Checkpoints.KeepMax);
        Assert.Equal(4096, c.TrainData.SeqLength);
    }

    [Fact]
    public void OverridesCreateMissingSections()
    {
        var result = Load("model.model_config.pet_config.pet_type=lora", "model.model_config.pet_config.lora_rank=8",
            "model.model_config.pet_config.target_modules=[wq, wv, w2]");

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Equal("q_proj, v_proj, down_proj", result.Config!.Lora!.Settings.Targets.Describe());
        Assert.Equal((8, 16.0, 0.01), (result.Config.Lora.Settings.Rank, result.Config.Lora.Settings.Alpha, result.Config.Lora.Settings.Dropout));
    }

    [Fact]
    public void OverriddenValuesGetTheSameTypeChecksWithTheOverrideAsTheirSource()
    {
        var result = Load("runner_config.batch_size=four", "optimizer.learnig_rate=1e-5");

        Assert.Equal(2, result.Validation.Errors.Count);
        var type = result.Validation.Errors.Single(e => e.Path == "runner_config.batch_size");
        Assert.Equal(new SourcePosition("--set runner_config.batch_size=four", 1, 26), type.Position);
        Assert.Contains("expected an integer, got 'four'", type.Message);
        var typo = result.Validation.Errors.Single(e => e.Path == "optimizer.learnig_rate");
        Assert.Equal(new SourcePosition("--set optimizer.learnig_rate=1e-5", 1, 11), typo.Position);
        Assert.Contains("Did you mean 'learning_rate'?", typo.Message);
    }

    [Fact]
    public void MalformedOverridesAreErrors()
    {
        var result = Load("no-equals-sign", "callbacks[7].type=MFLossMonitor", "seed.x=1", "a..b=1");

        var messages = result.Validation.Errors.Select(e => e.Message).ToList();
        Assert.Equal(4, messages.Count);
        Assert.Contains(messages, m => m.Contains("key.path=value"));
        Assert.Contains(messages, m => m.Contains("'callbacks' has 2 item(s); index 7 is out of range"));
        Assert.Contains(messages, m => m.Contains("cannot set key 'x': 'seed' is '42'"));
        Assert.Contains(messages, m => m.Contains("'a..b' is not a key path"));
    }

    [Fact]
    public void ApplyWorksOnATreeDirectly()
    {
        var root = (YamlMappingNode)YamlTreeReader.Read("a: {b: 1}\nlist: [1, 2]\n", "t.yaml").Root!;

        var errors = ConfigOverrides.Apply(root, ["a.b=null", "a.c.d=text", "list[2]=3", "list[0]=0"]);

        Assert.Empty(errors);
        var a = (YamlMappingNode)root["a"]!;
        Assert.True(((YamlScalarNode)a["b"]!).IsNull);
        Assert.Equal("text", ((YamlScalarNode)((YamlMappingNode)a["c"]!)["d"]!).Value);
        Assert.Equal(["0", "2", "3"], ((YamlSequenceNode)root["list"]!).Items.Cast<YamlScalarNode>().Select(s => s.Value));
    }
}
