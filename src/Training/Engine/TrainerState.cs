using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sft.Training.Engine;

/// <summary>
/// Everything besides weights and optimizer moments that a resumed run needs to continue exactly:
/// the step, the data position, the RNG state, and a fingerprint of the config it was trained with.
/// Written last into a checkpoint (<c>trainer_state.json</c>), so its presence marks the checkpoint complete.
/// Field names follow Hugging Face's trainer_state.json where one exists.
/// </summary>
public sealed record TrainerState
{
    [JsonPropertyName("global_step")] public long GlobalStep { get; init; }
    [JsonPropertyName("max_steps")] public long MaxSteps { get; init; }
    [JsonPropertyName("epoch")] public int Epoch { get; init; }
    /// <summary>Samples of <see cref="Epoch"/>'s order already consumed (the data cursor).</summary>
    [JsonPropertyName("samples_in_epoch")] public int SamplesInEpoch { get; init; }
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; }
    [JsonPropertyName("trained_tokens")] public long TrainedTokens { get; init; }
    [JsonPropertyName("seed")] public long Seed { get; init; }
    /// <summary>torch's CPU generator state, base64.</summary>
    [JsonPropertyName("torch_rng_state")] public string? TorchRngState { get; init; }
    [JsonPropertyName("config_fingerprint")] public string? ConfigFingerprint { get; init; }
    [JsonPropertyName("training_mode")] public string? TrainingMode { get; init; }
    [JsonPropertyName("emergency")] public bool Emergency { get; init; }
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; init; }
    [JsonPropertyName("log_history")] public IReadOnlyList<LogHistoryEntry> LogHistory { get; init; } = [];

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public void Write(string path) =>
        Checkpoints.SafeTensorsWriter.WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(this, Options));

    public static TrainerState Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllBytes(path), Options)
                   ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a valid trainer state: {e.Message}"); }
    }
}

/// <summary>One logged step, as in HF's <c>log_history</c>.</summary>
public sealed record LogHistoryEntry(
    [property: JsonPropertyName("step")] long Step,
    [property: JsonPropertyName("loss")] double? Loss,
    [property: JsonPropertyName("learning_rate")] double? LearningRate,
    [property: JsonPropertyName("grad_norm")] double? GradNorm,
    [property: JsonPropertyName("eval_loss")] double? EvalLoss = null);
