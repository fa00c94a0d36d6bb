using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Training.Engine;
using Sft.Training.Lora;
using Sft.Training.Models;
using static TorchSharp.torch;

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
    AdamWOptions Optimizer,
    LrScheduleSection Schedule,
    LoopSection Loop,
    DatasetSection TrainData,
    EvalSection Eval,
    CheckpointSection Checkpoints,
    ParallelSection Parallel)
{
    /// <summary>Full fine-tuning unless <c>model.model_config.pet_config</c> asks for LoRA.</summary>
    public bool IsLora => Lora is not null;

    /// <summary>
    /// The devices the model replicas train on, one replica each: the <c>devices</c> list; else, for <c>device: cuda</c>
    /// or <c>auto</c> with data parallel, GPUs 0..N-1; else the one device.
    /// </summary>
    public IReadOnlyList<DeviceSpec> ReplicaDevices =>
        Run.Devices is { Count: > 1 } listed ? listed
        : Parallel.DataParallel > 1 ? Enumerable.Range(0, Parallel.DataParallel).Select(i => new DeviceSpec(DeviceKind.Cuda, i)).ToList()
        : [Run.Device];
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

/// <param name="Enabled">resume from the newest checkpoint in <see cref="OutputDir"/> (or <paramref name="Checkpoint"/>)</param>
/// <param name="Checkpoint">MindFormers' <c>resume_training: NAME</c>: a checkpoint folder name or path</param>
public sealed record ResumeSetting(bool Enabled, string? Checkpoint);

/// <param name="Device">the device of the run; with a <c>devices</c> list, its first entry (the primary replica's)</param>
/// <param name="Devices">the <c>devices</c> list as written (one data-parallel replica each); null when only <c>device</c> is given</param>
public sealed record RunSection(int Seed, string OutputDir, RunMode Mode, ResumeSetting Resume, DeviceSpec Device,
    IReadOnlyList<DeviceSpec>? Devices = null);

/// <summary>Where the base model comes from.</summary>
public enum ModelSourceKind { LocalFolder, Builtin }

/// <param name="Source">the <c>load_checkpoint</c> value as written (e.g. <c>builtin:demo-tiny</c>)</param>
/// <param name="Path">absolute path of the Hugging Face folder (config.json + safetensors); empty when unresolved</param>
/// <param name="Architecture">the folder's config.json (else built from <c>model.model_config</c>), already cut to
/// <paramref name="NumLayers"/>; null when neither was available</param>
/// <param name="NumLayers">load and train only the first N decoder layers (<see cref="Checkpoints.ModelLoadOptions.NumLayers"/>); null = all</param>
/// <param name="ComputeDtype">dtype of weights and activations (<c>compute_dtype</c>): Float32 or BFloat16. The optimizer
/// keeps float32 master weights and moments for bfloat16 parameters.</param>
/// <param name="SeqLength">maximum tokens per sample (the data handler's seq_length)</param>
public sealed record ModelSection(
    string Source,
    ModelSourceKind Kind,
    string Path,
    ModelConfig? Architecture,
    int? NumLayers,
    ScalarType ComputeDtype,
    int SeqLength);

/// <param name="Settings">rank, alpha, dropout, rsLoRA and the targets (PEFT rules, MindFormers names mapped)</param>
/// <param name="AdapterPath">start from this PEFT adapter folder instead of a fresh adapter</param>
public sealed record LoraSection(LoraSettings Settings, string? AdapterPath);

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

/// <param name="TypeName">the type as written (CosineWithWarmUpLR, cosine, ...)</param>
/// <param name="WarmupSteps">explicit warm-up steps; null when <paramref name="WarmupRatio"/> is used</param>
/// <param name="WarmupRatio">warm-up as a fraction of the total steps (MindFormers' <c>warmup_ratio</c>)</param>
/// <param name="TotalSteps">null: the number of optimizer steps of the run (MindFormers' <c>total_steps: -1</c>)</param>
public sealed record LrScheduleSection(
    LrScheduleKind Kind,
    string TypeName,
    double LearningRate,
    double LrEnd,
    int? WarmupSteps,
    double? WarmupRatio,
    int? TotalSteps)
{
    /// <summary>The engine's schedule for a run of <paramref name="runSteps"/> optimizer steps.</summary>
    public LrSchedule For(long runSteps)
    {
        var total = TotalSteps ?? runSteps;
        var warmup = WarmupSteps ?? (long)Math.Floor(total * (WarmupRatio ?? 0));
        return new LrSchedule(Kind, LearningRate, total, warmup, LrEnd);
    }
}

/// <param name="Layers">recompute the first N decoder layers; null = all layers</param>
public sealed record RecomputeSection(bool Enabled, int? Layers)
{
    /// <summary>The decoder's <c>RecomputeLayers</c> for a model of <paramref name="numLayers"/> layers (0 = none).</summary>
    public int LayersOf(int numLayers) => Enabled ? Math.Min(numLayers, Layers ?? numLayers) : 0;
}

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

public enum PackingMode { None, Pack, Truncate }

/// <param name="Spec">what the data layer loads (<see cref="DatasetLoader"/>): path (absolute local file or folder,
/// <c>builtin:NAME</c>, or Hub id), data_files per split, split with an optional slice, revision, format, columns</param>
/// <param name="Origin">where the rows come from, as decided at validation</param>
/// <param name="Template">prompt template from the engine's registry (mindformers_alpaca for the Alpaca handler); null = detect from the tokenizer's chat template</param>
/// <param name="TrainOnPrompt">also train on prompt tokens (labels not masked with -100)</param>
/// <param name="SeqLength">maximum tokens per sample</param>
/// <param name="ValidationRatio">fraction of rows held out for evaluation; 0 = none</param>
public sealed record DatasetSection(
    DatasetSpec Spec,
    DatasetOrigin Origin,
    bool Shuffle,
    bool DropRemainder,
    string? Template,
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
