using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Loading;
using Sft.Training.Config;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Config;

/// <summary>The MindSpore Transformers SFT guide's Qwen2.5-7B configs, with only their paths changed.</summary>
public sealed class GuideConfigTests : IDisposable
{
    readonly TempModelFolder _model = new(TestFiles.Qwen25_7BConfig);

    public void Dispose() => _model.Dispose();

    /// <summary>The guide's placeholder '/path/to/Qwen2.5-7B/' replaced by a folder holding the real config.json.</summary>
    string WithPaths(string example) => ExampleConfigs.Read(example).Replace("/path/to/Qwen2.5-7B", _model.Path.TrimEnd('/'));

    static ConfigLoadResult Load(string yaml, int gpus = 0, params string[] overrides) =>
        TrainConfigLoader.Load(yaml, new ConfigLoadOptions
        {
            SourceName = "finetune_qwen2_5_7b_8k.yaml", AvailableCudaDevices = gpus, Overrides = overrides,
        });

    [Fact]
    public void FullConfigValidatesAndMapsEverySetting()
    {
        var result = Load(WithPaths(ExampleConfigs.Qwen25_7B));

        Assert.True(result.IsValid, result.Validation.Format());
        var c = result.Config!;
        Assert.Equal(42, c.Run.Seed);
        Assert.Equal(RunMode.Finetune, c.Run.Mode);
        Assert.False(c.Run.Resume.Enabled);
        Assert.Equal(_model.Path, c.Model.Path);
        Assert.Equal(ModelSourceKind.LocalFolder, c.Model.Kind);
        Assert.Equal(ScalarType.BFloat16, c.Model.ComputeDtype);
        Assert.Equal(8192, c.Model.SeqLength);
        Assert.Null(c.Model.NumLayers);
        Assert.Equal(28, c.Model.Architecture!.NumHiddenLayers);
        Assert.Null(c.Lora);

        Assert.Equal((0.9, 0.95, 1e-8, 0.01, 1e-6), (c.Optimizer.Beta1, c.Optimizer.Beta2, c.Optimizer.Eps, c.Optimizer.WeightDecay, c.Optimizer.LearningRate));
        Assert.Equal(Sft.Training.Engine.LrScheduleKind.Cosine, c.Schedule.Kind);
        Assert.Equal((1e-6, 1e-6), (c.Schedule.LearningRate, c.Schedule.LrEnd));
        Assert.Null(c.Schedule.TotalSteps);
        Assert.Equal(new Sft.Training.Engine.LrSchedule(Sft.Training.Engine.LrScheduleKind.Cosine, 1e-6, 1000, 0, 1e-6), c.Schedule.For(1000));
        Assert.Equal(14, c.Loop.Recompute.LayersOf(28));

        Assert.Equal((2, 1, 1, (int?)null, (double?)1.0, 1), (c.Loop.Epochs, c.Loop.BatchSize, c.Loop.GradientAccumulationSteps, c.Loop.MaxSteps, c.Loop.MaxGradNorm, c.Loop.LogInterval));
        Assert.Equal(new RecomputeSection(true, 14), c.Loop.Recompute);

        Assert.Equal(DatasetOrigin.Hub, c.TrainData.Origin);
        Assert.Equal("llm-wizard/alpaca-gpt4-data", c.TrainData.Spec.Path);
        Assert.Equal("train", c.TrainData.Spec.Split);
        Assert.Null(c.TrainData.Spec.DataFiles);
        Assert.False(c.TrainData.Shuffle);
        Assert.True(c.TrainData.DropRemainder);
        Assert.Equal(PackingMode.Pack, c.TrainData.Packing);
        Assert.Equal("mindformers_alpaca", c.TrainData.Template);
        Assert.Equal(8192, c.TrainData.SeqLength);
        Assert.Equal(DatasetFormat.Alpaca, c.TrainData.Spec.Format);
        Assert.Equal(ColumnMapping.Default, c.TrainData.Spec.Columns);

        Assert.Equal("Qwen2Tokenizer", c.Tokenizer.Type);
        Assert.Equal(_model.In("vocab.json"), c.Tokenizer.VocabFile);
        Assert.Equal(_model.In("merges.txt"), c.Tokenizer.MergesFile);
        Assert.Equal(("<|endoftext|>", "<|im_end|>", (string?)null, (string?)null), (c.Tokenizer.PadToken, c.Tokenizer.EosToken, c.Tokenizer.BosToken, c.Tokenizer.UnkToken));

        Assert.Equal(new CheckpointSection(5000, 1, true), c.Checkpoints);
        Assert.Equal(new ParallelSection(1, 4), c.Parallel);
        Assert.False(c.Eval.Enabled);
    }

    [Fact]
    public void AscendOnlyKeysAreReportedAsIgnoredWithTheirLines()
    {
        var result = Load(WithPaths(ExampleConfigs.Qwen25_7B));
        var ignored = result.Validation.Ignored.ToDictionary(i => i.Path, i => (i.Line, i.Column));

        Assert.Equal((5, 1), ignored["auto_trans_ckpt"]);
        Assert.Equal((19, 3), ignored["runner_config.sink_mode"]);
        Assert.Equal((20, 3), ignored["runner_config.sink_size"]);
        Assert.Equal((25, 3), ignored["runner_wrapper.scale_sense"]);
        Assert.Equal((90, 1), ignored["parallel"]);
        Assert.Equal((113, 1), ignored["micro_batch_interleave_num"]);
        Assert.Equal((118, 3), ignored["recompute_config.select_recompute"]);
        Assert.Equal((139, 1), ignored["context"]);
        Assert.Equal((179, 5), ignored["model.model_config.use_flash_attention"]);
        Assert.Equal((69, 11), ignored["train_dataset.data_loader.handler[0].tokenizer.auto_register"]);
        Assert.Contains("Ascend", result.Validation.Ignored.Single(i => i.Path == "context").Message);
        Assert.Contains("train_dataset_task", ignored.Keys);
        Assert.Contains("model.model_config.rotary_dtype", ignored.Keys);
        Assert.All(result.Validation.Ignored, i => Assert.Equal(IssueSeverity.Ignored, i.Severity));
    }

    [Fact]
    public void ParallelLayoutIsNotAppliedOnOneDeviceAndTheGlobalBatchIsExplained()
    {
        var result = Load(WithPaths(ExampleConfigs.Qwen25_7B));
        var warning = Assert.Single(result.Validation.Warnings, w => w.Path == "parallel_config");

        Assert.Equal(103, warning.Line);
        Assert.Contains("8 devices", warning.Message);
        Assert.Contains("gradient_accumulation_steps: 4", warning.Message);
    }

    [Fact]
    public void OnEightGpusPipelineParallelIsRefusedSayingWhatIsSupported()
    {
        var result = Load(WithPaths(ExampleConfigs.Qwen25_7B), gpus: 8);

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Validation.Errors);
        Assert.Equal("parallel_config.pipeline_stage", error.Path);
        Assert.Equal((106, 19), (error.Line, error.Column));
        Assert.Contains("data-parallel only", error.Message);
        Assert.Contains("data_parallel to the number of GPUs (8)", error.Hint);
        Assert.Contains(result.Validation.Warnings, w => w.Path == "parallel_config.data_parallel" && w.Message.Contains("4 of the 8"));
    }

    [Fact]
    public void EightGpusWithDataParallelOnlyValidate()
    {
        var result = Load(WithPaths(ExampleConfigs.Qwen25_7B), gpus: 8,
            "parallel_config.pipeline_stage=1", "parallel_config.data_parallel=8");

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Equal(new ParallelSection(8, 8), result.Config!.Parallel);
    }

    [Fact]
    public void LoraConfigMapsMindFormersTargetsToHuggingFaceNames()
    {
        var result = Load(WithPaths(ExampleConfigs.Qwen25_7BLora));

        Assert.True(result.IsValid, result.Validation.Format());
        var lora = result.Config!.Lora!.Settings;
        Assert.Equal((16, 16.0, 0.05, false), (lora.Rank, lora.Alpha, lora.Dropout, lora.UseRsLora));
        Assert.Equal(1.0, lora.Scaling);
        Assert.Equal(".*q_proj|.*k_proj|.*v_proj|.*o_proj", lora.Targets.Describe());
        Assert.Null(result.Config.Lora.AdapterPath);
        var adapted = LinearModules.Of(result.Config.Model.Architecture!).Select(m => m.Name).Where(lora.Targets.Matches).ToList();
        Assert.Equal(4 * 28, adapted.Count);
        Assert.Contains("model.layers.27.self_attn.o_proj", adapted);
        Assert.DoesNotContain(adapted, n => n.Contains("mlp", StringComparison.Ordinal) || n == "lm_head");
    }

    [Fact]
    public void ValidationReportsTheMemoryEstimate()
    {
        var result = Load(WithPaths(ExampleConfigs.Qwen25_7B));

        var memory = result.Validation.Memory!;
        Assert.Equal(7_615_616_512, memory.TotalParameters);
        Assert.Contains("weights", result.Validation.Format());
        Assert.Contains("15.23 GB", result.Validation.Format());
    }
}
