using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Loading;
using Sft.Training.Config;

namespace Sft.Training.Tests.Config;

public sealed class ExampleConfigsTests : IDisposable
{
    readonly TempModelFolder _demoModel = DemoStandIn();

    /// <summary>The tiny reference Qwen2 checkpoint standing in for create-model's demo-tiny, with room for 256-token samples.</summary>
    static TempModelFolder DemoStandIn()
    {
        var folder = TempModelFolder.CopyOf(TestFiles.ReferenceModel("qwen2_tied"));
        var config = folder.In("config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"max_position_embeddings\": 128", "\"max_position_embeddings\": 1024"));
        return folder;
    }

    public void Dispose() => _demoModel.Dispose();

    BuiltinCatalog Builtins => new(new Dictionary<string, string> { ["demo-tiny"] = _demoModel.Path });

    [Fact]
    public void ThreeExamplesAreEmbedded()
    {
        Assert.Equal([ExampleConfigs.DemoTiny, ExampleConfigs.Qwen25_7B, ExampleConfigs.Qwen25_7BLora], ExampleConfigs.Names);
        Assert.Contains("path: \"llm-wizard/alpaca-gpt4-data\"", ExampleConfigs.Read(ExampleConfigs.Qwen25_7B));
        Assert.Throws<ArgumentException>(() => ExampleConfigs.Read("nope.yaml"));
    }

    [Fact]
    public void TheDemoValidatesWithBuiltinsResolvedByTheHost()
    {
        var result = TrainConfigLoader.Load(ExampleConfigs.Read(ExampleConfigs.DemoTiny),
            new ConfigLoadOptions { SourceName = ExampleConfigs.DemoTiny, Builtins = Builtins, BaseDirectory = "/srv/sft" });

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Empty(result.Validation.Warnings);
        Assert.Empty(result.Validation.Ignored);
        var c = result.Config!;
        Assert.Equal(("builtin:demo-tiny", ModelSourceKind.Builtin, _demoModel.Path), (c.Model.Source, c.Model.Kind, c.Model.Path));
        Assert.Equal((DatasetOrigin.Builtin, "builtin:alpaca_en_demo"), (c.TrainData.Origin, c.TrainData.Spec.Path));
        Assert.Equal("/srv/sft/output/demo_tiny", c.Run.OutputDir);
        Assert.Equal((1, 4, 2, (int?)60), (c.Loop.Epochs, c.Loop.BatchSize, c.Loop.GradientAccumulationSteps, c.Loop.MaxSteps));
        Assert.Equal((DatasetFormat.Alpaca, "mindformers_alpaca", false, 256, 0.05), (c.TrainData.Spec.Format, c.TrainData.Template, c.TrainData.TrainOnPrompt, c.TrainData.SeqLength, c.TrainData.ValidationRatio));
        Assert.True(c.TrainData.Shuffle);
        Assert.Equal(new EvalSection(true, null, 20, null), c.Eval);
        Assert.Equal(new CheckpointSection(30, 2, true), c.Checkpoints);
        Assert.Equal((1e-3, 1e-4, 0.05), (c.Schedule.LearningRate, c.Schedule.LrEnd, c.Schedule.WarmupRatio));
        Assert.Equal(3, c.Schedule.For(60).WarmupSteps);
        Assert.Equal(DeviceSpec.Auto, c.Run.Device);

        var memory = result.Validation.Memory!;
        Assert.Equal(c.Model.Architecture!.ParameterCount(), memory.TotalParameters);
    }

    [Fact]
    public void UnknownOrUncreatedBuiltinsAreErrorsAndUnresolvedOnesWarnings()
    {
        var yaml = ExampleConfigs.Read(ExampleConfigs.DemoTiny);

        var unknown = TrainConfigLoader.Load(yaml.Replace("builtin:demo-tiny", "builtin:demo-huge"), new ConfigLoadOptions { Builtins = Builtins });
        var error = Assert.Single(unknown.Validation.Errors);
        Assert.Equal("there is no built-in model 'demo-huge'.", error.Message);
        Assert.Equal("use one of: builtin:demo-tiny.", error.Hint);

        var notCreated = new BuiltinCatalog(new Dictionary<string, string> { ["demo-tiny"] = "/nonexistent/demo-tiny" });
        var missing = Assert.Single(TrainConfigLoader.Load(yaml, new ConfigLoadOptions { Builtins = notCreated }).Validation.Errors);
        Assert.Contains("has not been created yet", missing.Message);
        Assert.Contains("create-model", missing.Hint);

        var unchecked_ = TrainConfigLoader.Load(yaml);
        Assert.True(unchecked_.IsValid, unchecked_.Validation.Format());
        Assert.Contains(unchecked_.Validation.Warnings, w => w.Path == "load_checkpoint" && w.Message.Contains("resolved by the server"));
        Assert.Single(unchecked_.Validation.Warnings, w => w.Path == "load_checkpoint" && w.Message.Contains("no memory estimate"));

        var noDataset = TrainConfigLoader.Load(yaml.Replace("builtin:alpaca_en_demo", "builtin:alpaca_fr_demo"), new ConfigLoadOptions { Builtins = Builtins });
        var datasetError = Assert.Single(noDataset.Validation.Errors);
        Assert.Equal("there is no built-in dataset 'alpaca_fr_demo'.", datasetError.Message);
        Assert.Contains("builtin:alpaca_en_demo", datasetError.Hint);
    }

    [Fact]
    public void LoadFileResolvesRelativePathsFromTheConfigsFolder()
    {
        var folder = Path.Combine(_demoModel.Path, "jobs");
        Directory.CreateDirectory(folder);
        File.Copy(TestFiles.DemoDataset, Path.Combine(folder, "train.json"));
        var yaml = ExampleConfigs.Read(ExampleConfigs.DemoTiny)
            .Replace("'builtin:demo-tiny'", "'..'")
            .Replace("'builtin:alpaca_en_demo'", "train.json");
        File.WriteAllText(Path.Combine(folder, "job.yaml"), yaml);

        var result = TrainConfigLoader.LoadFile(Path.Combine(folder, "job.yaml"));

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Equal(_demoModel.Path, result.Config!.Model.Path);
        Assert.Equal((DatasetOrigin.LocalFile, Path.Combine(folder, "train.json")), (result.Config.TrainData.Origin, result.Config.TrainData.Spec.Path));
        Assert.Equal(Path.Combine(folder, "output", "demo_tiny"), result.Config.Run.OutputDir);

        var missing = TrainConfigLoader.LoadFile(Path.Combine(folder, "nope.yaml"));
        Assert.Contains("does not exist", Assert.Single(missing.Validation.Errors).Message);
    }

    [Fact]
    public async Task TheDemosDatasetSpecLoadsThroughTheDataLayer()
    {
        var config = TrainConfigLoader.Load(ExampleConfigs.Read(ExampleConfigs.DemoTiny), new ConfigLoadOptions { Builtins = Builtins }).Config!;

        var split = await new DatasetLoader().LoadSplitAsync(config.TrainData.Spec);

        Assert.Equal(999, await split.CountAsync());
        var first = split.Examples().First();
        Assert.NotNull(first.Conversation!.Alpaca);
    }
}
