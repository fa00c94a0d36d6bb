namespace Sft.Training.Config;

/// <summary>
/// A validated training job, read from a MindFormers-shaped YAML. Paths are absolute (or Hub ids);
/// <c>builtin:</c> names are resolved. Built only when validation found no errors.
/// </summary>
public sealed record TrainConfig(
    RunSection Run,
    ModelSection Model,
    LoraSection? Lora,
    TokenizerSection Tokenizer,
    OptimizerSection Optimizer,
    LrScheduleSection Schedule,
    LoopSection Loop,
    DatasetSection TrainData,
    EvalSection Eval,
    CheckpointSection Checkpoints,
    ParallelSection Parallel)
{
    /// <summary>Full fine-tuning unless <c>model.model_config.pet_config</c> asks for LoRA.</summary>
    public bool IsLora => Lora is not null;
}

/// <summary><c>finetune</c> and <c>train</c> both train; MindFormers' other run modes are refused.</summary>
public enum RunMode { Finetune, Train }

public enum DeviceKind { Auto, Cpu, Cuda }

/// <summary><c>auto</c> (CUDA when present, else CPU), <c>cpu</c>, <c>cuda</c> (all GPUs), <c>cuda:N</c>.</summary>
public sealed record DeviceSpec(DeviceKind Kind, int? Index = null)
{
    public static DeviceSpec Auto { get; } = new(DeviceKind.Auto);

    public override string ToString() => Kind switch
    {
        DeviceKind.Auto => "auto",
        DeviceKind.Cpu => "cpu",
        _ => Index is { } i ? $"cuda:{i}" : "cuda",
    };
}

/// <summary>Element types the engine computes in. float16 is refused (it needs loss scaling).</summary>
public enum DType { Float32, BFloat16 }

/// <param name="Enabled">resume from the newest checkpoint in <see cref="OutputDir"/> (or <paramref name="Checkpoint"/>)</param>
/// <param name="Checkpoint">MindFormers' <c>resume_training: NAME</c>: a checkpoint folder name or path</param>
public sealed record ResumeSetting(bool Enabled, string? Checkpoint);

public sealed record RunSection(int Seed, string OutputDir, RunMode Mode, ResumeSetting Resume, DeviceSpec Device);

/// <summary>Where the base model comes from.</summary>
public enum ModelSourceKind { LocalFolder, Builtin }

/// <param name="Source">the <c>load_checkpoint</c> value as written (e.g. <c>builtin:demo-tiny</c>)</param>
/// <param name="Path">absolute path of the Hugging Face folder (config.json + safetensors); empty when unresolved</param>
/// <param name="Dims">the architecture, from the folder's config.json (else from <c>model.model_config</c>); null if neither</param>
/// <param name="NumLayers">load and train only the first N decoder layers; null = all</param>
/// <param name="ComputeDtype">dtype of weights and activations in forward/backward (<c>compute_dtype</c>)</param>
/// <param name="ParamDtype">dtype of trainable master weights and AdamW state (<c>param_init_type</c>);
/// float32 with a bfloat16 compute dtype means mixed precision</param>
/// <param name="SeqLength">maximum tokens per sample (the data handler's seq_length)</param>
public sealed record ModelSection(
    string Source,
    ModelSourceKind Kind,
    string Path,
    ModelDims? Dims,
    int? NumLayers,
    DType ComputeDtype,
    DType ParamDtype,
    int SeqLength);

/// <param name="TargetModules">which linear layers get adapters, in Hugging Face names</param>
/// <param name="AdapterPath">start from this PEFT adapter folder instead of a fresh one</param>
public sealed record LoraSection(
    int Rank,
    double Alpha,
    double Dropout,
    TargetModules TargetModules,
    TargetModules? ExcludeModules,
    bool UseRsLora,
    string? AdapterPath)
{
    /// <summary>PEFT scaling: alpha/r, or alpha/√r with rsLoRA.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;
}

/// <summary>
/// The tokenizer: explicit files (<c>vocab_file</c> + <c>merges_file</c>, or <c>tokenizer_file</c>), else the
/// model folder's <c>tokenizer.json</c> / <c>vocab.json</c>+<c>merges.txt</c>. Special tokens as written (null = the tokenizer's own).
/// </summary>
public sealed record TokenizerSection(
    string Type,
    string? VocabFile,
    string? MergesFile,
    string? TokenizerFile,
    string? PadToken,
    string? EosToken,
    string? BosToken,
    string? UnkToken);

/// <summary>AdamW (decoupled weight decay). MindFormers' AdamWeightDecay names map here.</summary>
public sealed record OptimizerSection(double LearningRate, double Beta1, double Beta2, double Eps, double WeightDecay);

public enum LrScheduleKind { Constant, Linear, Cosine }

/// <param name="WarmupSteps">explicit warm-up steps; null when <paramref name="WarmupRatio"/> is used</param>
/// <param name="WarmupRatio">warm-up as a fraction of <paramref name="TotalSteps"/> (MindFormers' <c>warmup_ratio</c>)</param>
/// <param name="TotalSteps">null: the number of optimizer steps of the run (MindFormers' <c>total_steps: -1</c>)</param>
/// <param name="DecaySteps">cosine/linear decay length (then held at lr_end); null = until TotalSteps</param>
/// <param name="NumCycles">cosine waves: 0.5 decays once from peak to lr_end</param>
public sealed record LrScheduleSection(
    LrScheduleKind Kind,
    string TypeName,
    double LearningRate,
    double LrEnd,
    double WarmupLrInit,
    int? WarmupSteps,
    double? WarmupRatio,
    int? TotalSteps,
    int? DecaySteps,
    double NumCycles)
{
    /// <summary>Warm-up steps for a run of <paramref name="totalSteps"/> optimizer steps.</summary>
    public int WarmupFor(int totalSteps) => WarmupSteps ?? (int)Math.Floor((TotalSteps ?? totalSteps) * (WarmupRatio ?? 0));
}

/// <param name="Layers">recompute the first N decoder layers; null = all layers</param>
public sealed record RecomputeSection(bool Enabled, int? Layers);

/// <param name="BatchSize">samples per device per micro-step (<c>runner_config.batch_size</c>)</param>
/// <param name="MaxSteps">stop after this many optimizer steps; null = run all epochs</param>
/// <param name="MaxGradNorm">clip the global gradient norm to this; null = no clipping</param>
/// <param name="LogInterval">emit a metrics event every N optimizer steps (MFLossMonitor per_print_times)</param>
public sealed record LoopSection(
    int Epochs,
    int BatchSize,
    int GradientAccumulationSteps,
    int? MaxSteps,
    double? MaxGradNorm,
    int LogInterval,
    RecomputeSection Recompute);

public enum DatasetSourceKind { LocalFile, LocalFolder, HubId, Builtin }

public enum PackingMode { None, Pack, Truncate }

/// <param name="Path">as written: a local file/folder, a Hub id (<c>owner/name</c>), <c>builtin:NAME</c>, or a
/// loader name (<c>json</c>, <c>parquet</c>, ...) with <paramref name="DataFiles"/></param>
/// <param name="ResolvedPath">absolute local path, or the Hub id</param>
/// <param name="DataFiles">files within the dataset (absolute when local)</param>
/// <param name="Format">auto, alpaca, sharegpt, messages or tokenized</param>
/// <param name="Columns">logical field → column name (e.g. instruction → prompt)</param>
/// <param name="Template">prompt template: alpaca (the MindFormers Alpaca prompt) or chatml</param>
/// <param name="TrainOnPrompt">also train on prompt tokens (labels not masked with -100)</param>
/// <param name="ValidationRatio">fraction of rows held out for evaluation; 0 = none</param>
public sealed record DatasetSection(
    string Path,
    DatasetSourceKind Kind,
    string ResolvedPath,
    IReadOnlyList<string> DataFiles,
    string Split,
    string? Name,
    string? Revision,
    bool Shuffle,
    bool DropRemainder,
    string Format,
    IReadOnlyDictionary<string, string> Columns,
    string Template,
    bool TrainOnPrompt,
    int SeqLength,
    PackingMode Packing,
    double ValidationRatio);

/// <param name="Enabled">MindFormers' <c>do_eval</c></param>
/// <param name="Data">a separate eval dataset; null = hold out <see cref="DatasetSection.ValidationRatio"/> of the train data</param>
/// <param name="StepInterval">evaluate every N optimizer steps; null = not by steps</param>
/// <param name="EpochInterval">evaluate every N epochs; null = not by epochs</param>
public sealed record EvalSection(bool Enabled, DatasetSection? Data, int? StepInterval, int? EpochInterval);

/// <param name="SaveSteps">save every N optimizer steps; null = only at the end</param>
/// <param name="KeepMax">keep the newest N checkpoints</param>
public sealed record CheckpointSection(int? SaveSteps, int KeepMax, bool SaveAtEnd);

/// <param name="DataParallel">devices training data-parallel; 1 on a single device</param>
/// <param name="DeclaredDataParallel">parallel_config.data_parallel as written</param>
public sealed record ParallelSection(int DataParallel, int DeclaredDataParallel);
