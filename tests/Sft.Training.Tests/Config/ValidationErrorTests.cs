using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Loading;
using Sft.Training.Config;
using Sft.Training.Engine;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Config;

/// <summary>Bad configs: every mistake is an error naming the key path, line and column, with a fix.</summary>
public sealed class ValidationErrorTests : IDisposable
{
    readonly TempModelFolder _model = new(TestFiles.Qwen25_7BConfig);

    public void Dispose() => _model.Dispose();

    /// <summary>A small valid config; <paramref name="extra"/> lines are appended (later keys are in their own sections).</summary>
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

    static ConfigLoadResult Load(string yaml, int gpus = 0) =>
        TrainConfigLoader.Load(yaml, new ConfigLoadOptions { SourceName = "job.yaml", AvailableCudaDevices = gpus });

    static ConfigIssue Error(ConfigLoadResult result, string path)
    {
        Assert.False(result.IsValid);
        Assert.Null(result.Config);
        return Assert.Single(result.Validation.Errors, e => e.Path == path);
    }

    [Fact]
    public void TheSmallConfigIsValid()
    {
        var result = Load(Config(""));

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Equal(ScalarType.Float32, result.Config!.Model.ComputeDtype);
        Assert.Equal(1024, result.Config.Model.SeqLength);
        Assert.Equal(LrScheduleKind.Cosine, result.Config.Schedule.Kind);
    }

    [Fact]
    public void AMisspeltKeyIsAnErrorWithPathLineAndTheNearestKnownKey()
    {
        var result = Load(Config("optimizer:\n  type: AdamW\n  learnig_rate: 1.e-5\n"));

        var error = Error(result, "optimizer.learnig_rate");
        Assert.Equal((14, 3), (error.Line, error.Column));
        Assert.Equal("unknown key 'learnig_rate' in optimizer. Did you mean 'learning_rate'?", error.Message);
        Assert.Equal("rename it to 'learning_rate'.", error.Hint);
    }

    [Fact]
    public void AnUnknownKeyWithNoNearMatchListsTheKnownKeys()
    {
        var result = Load(Config("runner_config:\n  epochs: 1\n  flux_capacitor: 88\n"));

        var error = Error(result, "runner_config.flux_capacitor");
        Assert.Equal("unknown key 'flux_capacitor' in runner_config.", error.Message);
        Assert.Contains("gradient_accumulation_steps", error.Hint);
    }

    [Theory]
    [InlineData("runner_config:\n  batch_size: four\n", "runner_config.batch_size", "expected an integer, got 'four'.")]
    [InlineData("runner_config:\n  batch_size: '4'\n", "runner_config.batch_size", "expected an integer, got the quoted string \"4\".")]
    [InlineData("runner_config:\n  epochs: 1.5\n", "runner_config.epochs", "expected an integer, got '1.5'.")]
    [InlineData("optimizer:\n  betas: 0.9\n", "optimizer.betas", "expected a list, got '0.9'.")]
    [InlineData("optimizer:\n  betas: [0.9, 0.95, 0.99]\n", "optimizer.betas", "expected 2 numbers, got 3.")]
    [InlineData("runner_wrapper:\n  use_clip_grad: maybe\n", "runner_wrapper.use_clip_grad", "expected true or false, got 'maybe'.")]
    [InlineData("optimizer: AdamW\n", "optimizer", "expected a mapping (indented 'name: value' lines), got 'AdamW'.")]
    [InlineData("recompute_config:\n  recompute: sometimes\n", "recompute_config.recompute", "expected True/False, a layer count or a list of counts per stage, got 'sometimes'.")]
    public void WrongTypesAreErrors(string body, string path, string message)
    {
        var error = Error(Load(Config(body)), path);

        Assert.Equal(message, error.Message);
        Assert.True(error.Line >= 12);
        Assert.NotNull(error.Hint);
    }

    [Theory]
    [InlineData("runner_config:\n  batch_size: 0\n", "runner_config.batch_size", "must be ≥ 1, got 0.")]
    [InlineData("runner_config:\n  gradient_accumulation_steps: -2\n", "runner_config.gradient_accumulation_steps", "must be ≥ 1, got -2.")]
    [InlineData("runner_config:\n  max_steps: 0\n", "runner_config.max_steps", "max_steps must be -1 (no limit) or ≥ 1, got 0.")]
    [InlineData("optimizer:\n  betas: [0.9, 1.0]\n", "optimizer.betas[1]", "beta2 must be in [0, 1), got 1.")]
    [InlineData("optimizer:\n  eps: 0\n", "optimizer.eps", "must be > 0, got 0.")]
    [InlineData("runner_wrapper:\n  use_clip_grad: True\n  max_grad_norm: -1\n", "runner_wrapper.max_grad_norm", "must be > 0, got -1.")]
    [InlineData("model:\n  model_config:\n    pet_config:\n      pet_type: lora\n      lora_rank: 0\n", "model.model_config.pet_config.lora_rank", "must be ≥ 1, got 0.")]
    [InlineData("model:\n  model_config:\n    pet_config:\n      pet_type: lora\n      lora_dropout: 1.0\n", "model.model_config.pet_config.lora_dropout", "must be in [0, 1), got 1.")]
    [InlineData("model:\n  model_config:\n    seq_length: 0\n", "model.model_config.seq_length", "must be ≥ 1, got 0.")]
    [InlineData("model:\n  model_config:\n    num_layers: 40\n", "model.model_config.num_layers", "num_layers 40 is more than the 28 layers in")]
    [InlineData("callbacks:\n  - type: CheckpointMonitor\n    keep_checkpoint_max: 0\n", "callbacks[0].keep_checkpoint_max", "must be ≥ 1, got 0.")]
    [InlineData("eval_step_interval: 0\n", "eval_step_interval", "must be -1 (off) or ≥ 1, got 0.")]
    public void ImpossibleValuesAreErrors(string body, string path, string message)
    {
        var error = Error(Load(Config(body)), path);

        Assert.StartsWith(message, error.Message);
    }

    [Theory]
    [InlineData("lr_end: 1.e-4", "lr_schedule.lr_end", "lr_end 1e-4 is above learning_rate 1e-5.")]
    [InlineData("warmup_ratio: 1.5", "lr_schedule.warmup_ratio", "must be in [0, 1], got 1.5.")]
    [InlineData("warmup_steps: 10\n  warmup_ratio: 0.1", "lr_schedule.warmup_ratio", "warmup_steps and warmup_ratio are both set.")]
    [InlineData("warmup_steps: 100\n  total_steps: 50", "lr_schedule.warmup_steps", "warmup_steps 100 is not below total_steps 50.")]
    [InlineData("total_steps: 0", "lr_schedule.total_steps", "total_steps must be -1 (the length of the run) or ≥ 1, got 0.")]
    [InlineData("warmup_lr_init: 1.e-6", "lr_schedule.warmup_lr_init", "warm-up starting above 0 is not supported.")]
    [InlineData("num_cycles: 1.5", "lr_schedule.num_cycles", "num_cycles 1.5 is not supported: the cosine decays once (0.5).")]
    [InlineData("decay_steps: 100", "lr_schedule.decay_steps", "decay_steps is not supported: the decay runs until total_steps.")]
    public void InconsistentSchedulesAreErrors(string keys, string path, string message)
    {
        var yaml = Config("").Replace("  learning_rate: 1.e-5\n", "  learning_rate: 1.e-5\n  " + keys + "\n");

        Assert.Equal(message, Error(Load(yaml), path).Message);
    }

    [Fact]
    public void AllErrorsAreCollectedInOnePass()
    {
        var result = Load(Config("""
            seed: -1
            runner_config:
              epochs: 0
              batch_size: x
            optimizer:
              learnig_rate: 1
            model:
              model_config:
                compute_dtype: float16
            callbacks:
              - type: CheckpointMonitr
            """));

        Assert.Equal(["seed", "runner_config.epochs", "runner_config.batch_size", "optimizer.learnig_rate",
                "model.model_config.compute_dtype", "callbacks[0].type"],
            result.Validation.Errors.Select(e => e.Path));
        Assert.Contains("Did you mean 'CheckpointMonitor'?", result.Validation.Errors[^1].Message);
        Assert.Contains("float16 is not supported", result.Validation.Errors[4].Message);
    }

    [Theory]
    [InlineData("type: SGD", "optimizer.type", "optimizer SGD is not supported.")]
    public void UnsupportedOptimizersAreRefused(string line, string path, string message)
    {
        Assert.Equal(message, Error(Load(Config("optimizer:\n  " + line + "\n")), path).Message);
    }

    [Fact]
    public void UnsupportedSchedulesLoadersAndFormatsAreRefused()
    {
        var schedule = Error(Load(Config("").Replace("type: cosine", "type: PolynomialWithWarmUpLR")), "lr_schedule.type");
        Assert.Equal("schedule PolynomialWithWarmUpLR is not supported.", schedule.Message);
        Assert.Contains("CosineWithWarmUpLR", schedule.Hint);

        var typo = Error(Load(Config("").Replace("type: cosine", "type: CosineWithWarmupLR2")), "lr_schedule.type");
        Assert.Contains("Did you mean 'CosineWithWarmUpLR'?", typo.Message);

        var mindrecord = Error(Load(Config("").Replace("type: CommonDataLoader", "type: MindDataset")), "train_dataset.data_loader.type");
        Assert.Contains("MindRecord", mindrecord.Message);

        var ckpt = Error(Load(Config("load_ckpt_format: ckpt")), "load_ckpt_format");
        Assert.Contains(".ckpt weights are not supported", ckpt.Message);

        var pet = Error(Load(Config("model:\n  model_config:\n    pet_config:\n      pet_type: ptuning2\n")), "model.model_config.pet_config.pet_type");
        Assert.Equal("pet_type 'ptuning2' is not supported.", pet.Message);

        var moe = Error(Load(Config("moe_config:\n  expert_num: 8\n")), "moe_config.expert_num");
        Assert.Contains("mixture-of-experts models are not supported", moe.Message);
    }

    [Fact]
    public void ModelFolderProblemsAreReported()
    {
        var missing = Error(Load(Config("").Replace(_model.Path, "/nonexistent/Qwen2.5-7B")), "load_checkpoint");
        Assert.Equal((1, 18), (missing.Line, missing.Column));
        Assert.Equal("model folder '/nonexistent/Qwen2.5-7B' does not exist.", missing.Message);

        using var noWeights = new TempModelFolder(TestFiles.Qwen25_7BConfig, withWeights: false);
        File.WriteAllText(noWeights.In("pytorch_model.bin"), "not safetensors");
        var bin = Error(Load(Config("").Replace(_model.Path, noWeights.Path)), "load_checkpoint");
        Assert.Contains("Only safetensors checkpoints are supported", bin.Message);

        using var broken = new TempModelFolder(TestFiles.Qwen25_7BConfig, withWeights: false);
        File.WriteAllText(broken.In("model.safetensors"), "<html>rate limited</html>");
        Assert.Contains("model.safetensors is not a valid safetensors file: header length", Error(Load(Config("").Replace(_model.Path, broken.Path)), "load_checkpoint").Message);

        using var mistral = new TempModelFolder(TestFiles.Qwen25_7BConfig);
        File.WriteAllText(mistral.In("config.json"), File.ReadAllText(mistral.In("config.json")).Replace("\"qwen2\"", "\"mistral\""));
        Assert.Contains("'model_type' is \"mistral\"; only \"qwen2\" and \"llama\" decoders are supported", Error(Load(Config("").Replace(_model.Path, mistral.Path)), "load_checkpoint").Message);

        using var sharded = new TempModelFolder(TestFiles.Qwen25_7BConfig, withWeights: false);
        File.WriteAllText(sharded.In("model.safetensors.index.json"),
            """{"metadata": {"total_size": 1}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");
        TempModelFolder.WriteEmptySafetensors(sharded.In("model-00001-of-00002.safetensors"));
        Assert.Contains("lists shard 'model-00002-of-00002.safetensors', which is missing",
            Error(Load(Config("").Replace(_model.Path, sharded.Path)), "load_checkpoint").Message);
    }

    [Fact]
    public void TokenizerFilesMustExistAndComeInPairs()
    {
        var handler = "        seq_length: 1024\n";
        var yaml = Config("").Replace(handler, handler + $"        tokenizer:\n          vocab_file: '{_model.In("vocab.json")}'\n");
        var error = Error(Load(yaml), "train_dataset.data_loader.handler[0].tokenizer.merges_file");
        Assert.Contains("a BPE tokenizer needs vocab_file and merges_file together", error.Message);

        yaml = Config("").Replace(handler, handler + "        tokenizer:\n          vocab_file: /no/vocab.json\n          merges_file: /no/merges.txt\n");
        var errors = Load(yaml).Validation.Errors;
        Assert.Equal(2, errors.Count);
        Assert.Equal("vocabulary file '/no/vocab.json' does not exist.", errors[0].Message);

        using var bare = new TempModelFolder(TestFiles.Qwen25_7BConfig, withTokenizer: false);
        Assert.Contains("no tokenizer", Error(Load(Config("").Replace(_model.Path, bare.Path)), "load_checkpoint").Message);
    }

    [Fact]
    public void DatasetPathsMustExistUnlessTheyLookLikeHubIds()
    {
        var missing = Error(Load(Config("").Replace("llm-wizard/alpaca-gpt4-data", "data/train.jsonl")), "train_dataset.data_loader.path");
        Assert.Contains("dataset file", missing.Message);
        Assert.Contains("does not exist", missing.Message);

        var junk = Error(Load(Config("").Replace("llm-wizard/alpaca-gpt4-data", "not a dataset")), "train_dataset.data_loader.path");
        Assert.Contains("neither an existing file or folder nor a Hugging Face dataset id", junk.Message);

        var json = Load(Config("").Replace("path: llm-wizard/alpaca-gpt4-data", $"path: json\n    data_files: '{TestFiles.DemoDataset}'"));
        Assert.True(json.IsValid, json.Validation.Format());
        Assert.Equal((DatasetOrigin.LocalFile, TestFiles.DemoDataset), (json.Config!.TrainData.Origin, json.Config.TrainData.Spec.Path));

        var noFiles = Error(Load(Config("").Replace("path: llm-wizard/alpaca-gpt4-data", "path: json")), "train_dataset.data_loader.data_files");
        Assert.Contains("reads data_files, and there are none", noFiles.Message);
    }

    [Fact]
    public void DevicesAndDataParallelAreCheckedAgainstTheMachine()
    {
        Assert.Contains("needs a CUDA GPU; this machine has none", Error(Load(Config("device: cuda")), "device").Message);
        Assert.Contains("this machine has 2 CUDA device(s)", Error(Load(Config("device: cuda:2"), gpus: 2), "device").Message);
        Assert.Contains("is not a device", Error(Load(Config("device: tpu")), "device").Message);

        var parallel = "use_parallel: True\nparallel_config:\n  data_parallel: 4\n";
        Assert.Equal("data_parallel 4 needs 4 devices; 2 are available.", Error(Load(Config(parallel), gpus: 2), "parallel_config.data_parallel").Message);
        var ok = Load(Config(parallel), gpus: 4);
        Assert.True(ok.IsValid, ok.Validation.Format());
        Assert.Equal(4, ok.Config!.Parallel.DataParallel);

        var tensor = Error(Load(Config(parallel.Replace("4", "2") + "  model_parallel: 2\n"), gpus: 4), "parallel_config.model_parallel");
        Assert.Contains("tensor parallelism", tensor.Message);
    }

    [Fact]
    public void EvaluationNeedsData()
    {
        Assert.Contains("no evaluation data", Error(Load(Config("do_eval: True")), "do_eval").Message);

        var held = Load(Config("do_eval: True").Replace("handler:", "validation_ratio: 0.1\n    handler:"));
        Assert.True(held.IsValid, held.Validation.Format());
        Assert.Equal((true, (int?)100, 0.1), (held.Config!.Eval.Enabled, held.Config.Eval.StepInterval, held.Config.TrainData.ValidationRatio));

        var separate = Load(Config("do_eval: True\neval_step_interval: 50\neval_dataset:\n  data_loader:\n    type: CommonDataLoader\n    path: llm-wizard/alpaca-gpt4-data\n    split: test\n"));
        Assert.True(separate.IsValid, separate.Validation.Format());
        var eval = separate.Config!.Eval;
        Assert.Equal(("test", 1024, "mindformers_alpaca", 50), (eval.Data!.Spec.Split, eval.Data.SeqLength, eval.Data.Template, eval.StepInterval));
    }

    [Fact]
    public void SurprisingButLegalSettingsAreWarnings()
    {
        var result = Load(Config("""
            optimizer:
              learning_rate: 3.e-5
            runner_wrapper:
              max_grad_norm: 1.0
            model:
              model_config:
                num_layers: 4
                hidden_size: 4096
                seq_length: 2048
            """));

        Assert.True(result.IsValid, result.Validation.Format());
        Assert.Equal(4, result.Config!.Model.NumLayers);
        Assert.Equal(4, result.Config.Model.Architecture!.NumHiddenLayers);
        Assert.Null(result.Config.Loop.MaxGradNorm);
        var warnings = result.Validation.Warnings.ToDictionary(w => w.Path, w => w.Message);
        Assert.Contains("the schedule's value is used", warnings["optimizer.learning_rate"]);
        Assert.Contains("use_clip_grad is not True", warnings["runner_wrapper.max_grad_norm"]);
        Assert.Equal("only the first 4 of 28 decoder layers are loaded and trained.", warnings["model.model_config.num_layers"]);
        Assert.Contains("4096 differs from hidden_size = 3584", warnings["model.model_config.hidden_size"]);
        Assert.Contains("samples are cut at 1024", warnings["model.model_config.seq_length"]);
    }

    [Fact]
    public void AScheduleShorterThanMaxStepsIsAWarningAtTotalSteps()
    {
        var yaml = Config("runner_config:\n  max_steps: 500\n").Replace("  learning_rate: 1.e-5\n", "  learning_rate: 1.e-5\n  total_steps: 100\n");

        var warning = Assert.Single(Load(yaml).Validation.Warnings);
        Assert.Equal(("lr_schedule.total_steps", 12), (warning.Path, warning.Line));
        Assert.StartsWith("total_steps 100 is below runner_config.max_steps 500", warning.Message);
    }
}
