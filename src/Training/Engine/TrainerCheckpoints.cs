using Sft.Training.Checkpoints;
using Sft.Training.Lora;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

/// <summary>
/// What a training checkpoint holds and how it is read back. A <c>step-N</c> folder is loadable as it is:
/// full fine-tuning writes a Hugging Face model folder (config.json, generation_config.json, safetensors,
/// tokenizer files) that transformers can load; LoRA writes a PEFT adapter folder. Beside them:
/// <c>optimizer.safetensors</c> (AdamW moments, fp32 masters, torch RNG), <c>train_config.yaml</c>, and
/// <c>trainer_state.json</c> last. Resume takes the newest complete checkpoint, falling back to older
/// ones when one cannot be read.
/// </summary>
public sealed class TrainerCheckpoints(CheckpointStore store, TrainableModel model, string? configYaml, int keepMax, ITrainingEventSink events)
{
    public const string OptimizerFile = "optimizer.safetensors";
    public const string ConfigFile = "train_config.yaml";
    const string RngKey = "rng.torch_cpu";

    public CheckpointStore Store => store;

    public CheckpointEvent Save(TrainerState state, AdamWOptimizer optimizer, Tensor rngState)
    {
        using var staging = store.Begin(state.GlobalStep);
        if (model.Lora is { } lora)
        {
            PeftAdapter.Save(staging.Path, lora, model.Adapters, model.BaseModelPath);
            TryCopyTokenizer(staging.Path);
        }
        else
        {
            HfModelFolder.WriteInto(model.Model, staging.Path, new ModelSaveOptions { TokenizerFrom = HasTokenizer(model.BaseModelPath) ? model.BaseModelPath : null });
        }
        var tensors = optimizer.StateTensors().Append((RngKey, rngState)).ToList();
        SafeTensorsWriter.Save(Path.Combine(staging.Path, OptimizerFile), tensors, new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["step"] = optimizer.StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        if (configYaml is not null) File.WriteAllText(Path.Combine(staging.Path, ConfigFile), configYaml);
        state.Write(Path.Combine(staging.Path, CheckpointStore.StateFileName));
        var final = staging.Commit();
        store.ApplyRetention(keepMax, Warn);
        var bytes = new DirectoryInfo(final).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        var kind = state.Emergency ? CheckpointKind.Emergency : model.IsLora ? CheckpointKind.Adapter : CheckpointKind.Full;
        var saved = new CheckpointEvent(state.GlobalStep, final, kind, bytes);
        events.Publish(saved);
        return saved;
    }

    /// <summary>
    /// Loads the newest complete checkpoint (or the one named: a folder name under the store or a path)
    /// into the model and optimizer and returns its state; null when there is none. A checkpoint that
    /// fails to load is reported and the previous one is tried.
    /// </summary>
    public (TrainerState State, string Path)? Resume(string? named, AdamWOptimizer optimizer)
    {
        IEnumerable<string> candidates = named is not null
            ? [Directory.Exists(named) ? Path.GetFullPath(named) : Path.Combine(store.Root, named)]
            : store.List(Warn).Reverse().Select(c => c.Path);
        foreach (var path in candidates)
        {
            try
            {
                if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"checkpoint {path} does not exist");
                var state = TrainerState.Read(Path.Combine(path, CheckpointStore.StateFileName));
                if (model.IsLora) PeftAdapter.LoadWeights(path, model.Adapters);
                else
                {
                    using var weights = WeightSource.Open(path);
                    HfModelFolder.LoadWeights(model.Model, weights, path);
                }
                using var file = SafeTensorsFile.Open(Path.Combine(path, OptimizerFile));
                optimizer.LoadState((name, destination) =>
                {
                    if (!file.Tensors.ContainsKey(name)) return false;
                    file.ReadInto(name, destination);
                    return true;
                }, state.GlobalStep);
                using (var rng = file.Read(RngKey)) set_rng_state(rng);
                return (state, path);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or KeyNotFoundException or UnauthorizedAccessException)
            {
                if (named is not null) throw new InvalidDataException($"Cannot resume from {path}: {e.Message}", e);
                Warn($"Checkpoint {path} could not be loaded ({e.Message}); trying the previous one.");
            }
        }
        return null;
    }

    void Warn(string message) => events.Publish(new LogEvent(TrainingLogLevel.Warning, message));

    static bool HasTokenizer(string folder) => HfModelFolder.TokenizerFiles.Any(f => File.Exists(Path.Combine(folder, f)));

    void TryCopyTokenizer(string folder)
    {
        if (HasTokenizer(model.BaseModelPath)) HfModelFolder.CopyTokenizerFiles(model.BaseModelPath, folder);
    }
}
