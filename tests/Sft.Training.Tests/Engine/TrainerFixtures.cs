using System.Text.Json;
using System.Text.Json.Nodes;
using Sft.Training.Config;
using Sft.Training.Engine;

namespace Sft.Training.Tests.Engine;

/// <summary>Configs and datasets for trainer tests: the reference checkpoints and small token datasets written to disk.</summary>
public static class TrainerFixtures
{
    /// <summary>The fixture's request.json rows as a pre-tokenized JSON Lines dataset (padding kept, with its attention_mask).</summary>
    public static string RequestDataset(string fixture, string folder)
    {
        var request = JsonNode.Parse(File.ReadAllText(TestAssets.Reference(fixture, "request.json")))!;
        var path = Path.Combine(folder, "request.jsonl");
        var ids = request["input_ids"]!.AsArray();
        using var writer = new StreamWriter(path);
        for (var i = 0; i < ids.Count; i++)
            writer.WriteLine(new JsonObject
            {
                ["input_ids"] = ids[i]!.DeepClone(),
                ["labels"] = request["labels"]![i]!.DeepClone(),
                ["attention_mask"] = request["attention_mask"]![i]!.DeepClone(),
            }.ToJsonString());
        return path;
    }

    /// <summary>Random token rows (ids below <paramref name="vocab"/>), prompts of 2 tokens masked with -100.</summary>
    public static string RandomDataset(string folder, int rows, int vocab = 512, int seed = 7)
    {
        var random = new Random(seed);
        var path = Path.Combine(folder, "tokens.jsonl");
        using var writer = new StreamWriter(path);
        for (var r = 0; r < rows; r++)
        {
            var ids = Enumerable.Range(0, random.Next(6, 13)).Select(_ => random.Next(vocab)).ToArray();
            var labels = ids.Select((id, i) => i < 2 ? -100 : id).ToArray();
            writer.WriteLine(JsonSerializer.Serialize(new { input_ids = ids, labels }));
        }
        return path;
    }

    /// <summary>A job on the CPU; with <paramref name="replicas"/> above 1, data parallel over that many CPU replicas
    /// (<paramref name="batch"/> rows each).</summary>
    public static string Yaml(string model, string data, string output, double lr, int maxSteps, int batch = 2,
        int accumulation = 1, bool shuffle = false, int? saveSteps = null, string? lora = null, bool resume = false, int keep = 5,
        int replicas = 1) => $"""
        seed: 3
        output_dir: '{output}'
        load_checkpoint: '{model}'
        load_ckpt_format: safetensors
        resume_training: {(resume ? "True" : "False")}
        run_mode: finetune
        {(replicas == 1 ? "device: cpu" : $"devices: [{string.Join(", ", Enumerable.Repeat("cpu", replicas))}]\nuse_parallel: True\nparallel_config:\n  data_parallel: {replicas}")}
        runner_config:
          epochs: 1
          batch_size: {batch}
          gradient_accumulation_steps: {accumulation}
          max_steps: {maxSteps}
        runner_wrapper:
          use_clip_grad: True
          max_grad_norm: 1.0
        optimizer:
          type: AdamW
          betas: [0.9, 0.999]
          eps: 1.e-8
          weight_decay: 0.01
        lr_schedule:
          type: constant
          learning_rate: {lr.ToString(System.Globalization.CultureInfo.InvariantCulture)}
          warmup_steps: 0
        train_dataset:
          data_loader:
            type: CommonDataLoader
            path: '{data}'
            shuffle: {(shuffle ? "True" : "False")}
            format: pretokenized
        callbacks:
          - type: CheckpointMonitor
            save_checkpoint_steps: {saveSteps ?? 1000}
            keep_checkpoint_max: {keep}
        model:
          model_config:
            seq_length: 16
            compute_dtype: float32
            {(lora is null ? "" : Indent(lora, 4))}
        """;

    static string Indent(string text, int spaces) =>
        string.Join("\n", text.Split('\n').Select((l, i) => i == 0 ? l : new string(' ', spaces) + l));

    public static TrainConfig Load(string yaml, string folder)
    {
        var path = Path.Combine(folder, "job.yaml");
        File.WriteAllText(path, yaml);
        var result = TrainConfigLoader.LoadFile(path);
        Assert.True(result.IsValid, result.Validation.Format());
        return result.Config!;
    }
}

/// <summary>Keeps every event; optionally acts on steps (cancel, fail) to interrupt a run where a test wants it.</summary>
public sealed class RecordingSink(Action<StepEvent>? onStep = null) : ITrainingEventSink
{
    readonly List<TrainingEvent> _events = [];

    public IReadOnlyList<TrainingEvent> Events { get { lock (_events) return _events.ToList(); } }
    public IReadOnlyList<StepEvent> Steps => Events.OfType<StepEvent>().ToList();

    public void Publish(TrainingEvent trainingEvent)
    {
        lock (_events) _events.Add(trainingEvent);
        if (trainingEvent is StepEvent step) onStep?.Invoke(step);
    }
}
