using System.Diagnostics;
using Sft.Training.Checkpoints;
using Sft.Training.Config;
using Sft.Training.Engine.Replicas;
using Sft.Training.Generation;
using Sft.Training.Models;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

/// <summary>How a run ended.</summary>
public sealed record TrainResult(TrainingPhase Outcome, long Steps, long TotalSteps, double? LastLoss, double? LastEvalLoss, string? LastCheckpoint);

/// <summary>
/// One supervised fine-tuning run, full-parameter or LoRA, from a validated config. The lifecycle is
/// visible in <see cref="Run"/>: set up (data, model, optimizer, schedule), resume, the loop (forward,
/// loss normalised over the tokens of the whole accumulated batch, backward, clip, AdamW step, log,
/// maybe evaluate, maybe save), and the final save. Cancellation is honoured between steps and saves
/// the last completed step; a failure saves it too (marked emergency) before the error goes on.
/// With several devices (<c>devices</c>, <c>parallel_config.data_parallel</c>) each step runs on one replica per
/// device over its slice of the global batch (<see cref="ReplicaSet"/>); the rest of the loop is the same.
/// Everything it reports leaves through <see cref="ITrainingEventSink"/>.
/// Grad mode and dispose scopes are per thread: run it on one thread from start to end (<see cref="RunAsync"/>).
/// </summary>
public sealed class Trainer(TrainConfig config, ITrainingEventSink events, string? configYaml = null)
{
    int _accumulation => config.Loop.GradientAccumulationSteps;

    /// <summary>Runs <see cref="Run"/> on a dedicated thread.</summary>
    public Task<TrainResult> RunAsync(CancellationToken ct)
    {
        var done = new TaskCompletionSource<TrainResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { done.SetResult(Run(ct)); }
            catch (Exception e) { done.SetException(e); }
        }) { IsBackground = true, Name = "sft-trainer" };
        thread.Start();
        return done.Task;
    }

    public TrainResult Run(CancellationToken ct)
    {
        // ---- setup ----
        events.Publish(new PhaseEvent(TrainingPhase.Preparing, $"preparing {(config.IsLora ? "LoRA" : "full")} fine-tuning"));
        var devices = config.ReplicaDevices.Select(DeviceSelector.Resolve).ToList();
        manual_seed(config.Run.Seed);
        using var replicas = ReplicaSet.Load(config, devices, events);
        var model = replicas.Primary;
        var data = TrainingData.Prepare(config, TrainingData.LoadTokenizer(config), model.Model.Config, events, ct);
        using var optimizer = new AdamWOptimizer(model.Trainable, config.Optimizer);
        // The loader hands out global batches (batch_size rows per replica); ReplicaSet slices them.
        var batching = new BatchingOptions(config.Loop.BatchSize * replicas.Count, config.Model.SeqLength,
            Packing: Packing(config.TrainData.Packing), Shuffle: config.TrainData.Shuffle, Seed: (ulong)config.Run.Seed,
            DropRemainder: config.TrainData.DropRemainder);
        var checkpoints = new TrainerCheckpoints(new CheckpointStore(Path.Combine(config.Run.OutputDir, "checkpoints")),
            model, configYaml, config.Checkpoints.KeepMax, events);
        var loader = new BatchLoader(data.Train.Samples, batching, data.PadId);
        var totalSteps = TotalSteps(loader);
        var schedule = config.Schedule.For(totalSteps);

        // ---- resume ----
        var run = new RunState();
        if (config.Run.Resume.Enabled && checkpoints.Resume(config.Run.Resume.Checkpoint, optimizer) is var (state, path))
        {
            replicas.SyncWeights();
            run.Step = state.GlobalStep;
            run.TrainedTokens = state.TrainedTokens;
            run.History.AddRange(state.LogHistory);
            run.LastSavedStep = state.GlobalStep;
            run.LastCheckpoint = path;
            loader = new BatchLoader(data.Train.Samples, batching, data.PadId, new DataCursor(state.Epoch, state.SamplesInEpoch));
            events.Publish(new LogEvent(TrainingLogLevel.Info, $"resumed from {path} at step {state.GlobalStep} (epoch {state.Epoch}, sample {state.SamplesInEpoch})"));
        }
        run.Cursor = loader.Cursor;
        run.SnapshotRng();
        events.Publish(new PhaseEvent(TrainingPhase.Training, $"{totalSteps} steps of {config.Loop.BatchSize}×{_accumulation}{(replicas.Count > 1 ? $"×{replicas.Count} replicas" : "")} samples, seq_length {config.Model.SeqLength}"));

        // ---- loop ----
        using var heap = HeapAllocator.TrainingLoop();   // freed step memory is kept for the next step, not faulted in again
        events.Publish(new LogEvent(TrainingLogLevel.Info, HeapAllocator.Describe()));
        var clock = Stopwatch.StartNew();
        var firstStep = run.Step;
        try
        {
            while (run.Step < totalSteps)
            {
                if (ct.IsCancellationRequested) return Stop(TrainingPhase.Cancelled, run, totalSteps, checkpoints, optimizer);
                var step = TrainStep(replicas, optimizer, loader, schedule, run);
                var eta = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / (run.Step - firstStep) * (totalSteps - run.Step));
                events.Publish(step with { TotalSteps = totalSteps, Eta = eta, EpochProgress = (double)run.Cursor.Index / data.Train.Samples.Count });
                if (run.Step % config.Loop.LogInterval == 0 || run.Step == totalSteps)
                    run.History.Add(new LogHistoryEntry(run.Step, step.Loss, step.LearningRate, step.GradNorm));

                if (data.Eval is { } eval && config.Eval.Enabled && config.Eval.StepInterval is { } every && run.Step % every == 0 && run.Step < totalSteps)
                    Evaluate(model, data, eval, run);
                if (config.Checkpoints.SaveSteps is { } saveEvery && run.Step % saveEvery == 0 && run.Step < totalSteps)
                    Save(checkpoints, optimizer, run, totalSteps, emergency: false);
            }
            if (data.Eval is { } finalEval && config.Eval.Enabled) Evaluate(model, data, finalEval, run);
            if (config.Checkpoints.SaveAtEnd && run.LastSavedStep != run.Step) Save(checkpoints, optimizer, run, totalSteps, emergency: false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Stop(TrainingPhase.Cancelled, run, totalSteps, checkpoints, optimizer);
        }
        catch (Exception failure)
        {
            // The origin's "save before dying": the last completed step survives, unless the failure hit the
            // optimizer update itself (then the weights are half-updated and the previous checkpoint stands).
            if (!run.InUpdate && run.Step > run.LastSavedStep)
            {
                try { Save(checkpoints, optimizer, run, totalSteps, emergency: true); }
                catch (Exception saveError) { events.Publish(new LogEvent(TrainingLogLevel.Error, $"emergency checkpoint failed: {saveError.Message}")); }
            }
            events.Publish(new LogEvent(TrainingLogLevel.Error, $"training failed at step {run.Step + 1}: {failure.Message}"));
            events.Publish(new PhaseEvent(TrainingPhase.Failed, failure.Message));
            throw;
        }
        finally
        {
            run.Dispose();
        }
        events.Publish(new PhaseEvent(TrainingPhase.Succeeded, $"{run.Step} steps, last loss {run.LastLoss:F4}"));
        return new TrainResult(TrainingPhase.Succeeded, run.Step, totalSteps, run.LastLoss, run.LastEvalLoss, run.LastCheckpoint);
    }

    static PackingStrategy Packing(PackingMode mode) => mode switch
    {
        PackingMode.Pack => PackingStrategy.Pack,
        PackingMode.Truncate => PackingStrategy.Truncate,
        _ => PackingStrategy.None,
    };

    long TotalSteps(BatchLoader loader)
    {
        if (config.Loop.MaxSteps is { } max) return max;
        long micro = 0;
        for (var epoch = 0; epoch < config.Loop.Epochs; epoch++) micro += loader.BatchesInEpoch(epoch);
        return Math.Max(1, micro / _accumulation);
    }

    /// <summary>One optimizer update over <c>gradient_accumulation_steps</c> micro-batches (global batches when data parallel).</summary>
    StepEvent TrainStep(ReplicaSet replicas, AdamWOptimizer optimizer, BatchLoader loader, LrSchedule schedule, RunState run)
    {
        var watch = Stopwatch.StartNew();
        var batches = new List<Batch>(_accumulation);
        try
        {
            for (var i = 0; i < _accumulation; i++) batches.Add(loader.Next());
            // HF normalisation: the summed loss of every micro-batch over the counted tokens of the whole step (all replicas).
            var denominator = Math.Max(1, batches.Sum(b => b.LossTokenCount));
            double loss, gradNorm, lr = schedule.At(run.Step);
            var lossSum = replicas.ForwardBackward(batches, config.Loop.BatchSize, denominator);
            gradNorm = GradientClipping.GlobalNorm(optimizer.Parameters);
            optimizer.LearningRate = lr;
            run.InUpdate = true;
            optimizer.Step(GradientClipping.Coefficient(gradNorm, config.Loop.MaxGradNorm ?? 0));   // clips as it reads the gradients
            replicas.SyncWeights();
            run.Step++;
            run.InUpdate = false;
            optimizer.ZeroGrad();
            loss = lossSum / denominator;
            run.Cursor = loader.Cursor;
            run.SnapshotRng();
            var tokens = batches.Sum(b => (long)b.TokenCount);
            var samples = batches.Sum(b => b.SampleCount);
            run.TrainedTokens += tokens;
            run.LastLoss = loss;
            var seconds = watch.Elapsed.TotalSeconds;
            return new StepEvent(run.Step, 0, run.Cursor.Epoch, 0, loss, lr, gradNorm, tokens, denominator, samples, seconds,
                tokens / seconds, samples / seconds, MemorySnapshot.OfProcess(), null);
        }
        finally
        {
            foreach (var batch in batches) batch.Dispose();
        }
    }

    void Evaluate(TrainableModel model, PreparedData data, TokenizedDataset eval, RunState run)
    {
        events.Publish(new PhaseEvent(TrainingPhase.Evaluating));
        var m = model.Model;
        m.eval();
        try
        {
            using var noGrad = no_grad();
            var loader = new BatchLoader(eval.Samples, new BatchingOptions(config.Loop.BatchSize, config.Model.SeqLength, Shuffle: false),
                data.PadId);
            double sum = 0;
            long count = 0;
            for (var i = loader.BatchesInEpoch(0); i > 0; i--)
            {
                using var batch = loader.Next();
                using var scope = NewDisposeScope();
                var b = m.Device.type == DeviceType.CPU ? batch : batch.To(m.Device);
                var part = CausalLmLoss.Compute(m, m.ForwardHidden(b.InputIds, b.AttentionMask, b.PositionIds, b.SegmentIds), b.Labels);
                sum += part.Sum.item<float>();
                count += part.Count;
            }
            var samples = data.Tokenizer is { } tokenizer ? eval.Samples.Take(2).Select(s => Sample(m, tokenizer, s)).ToList() : [];
            var loss = count > 0 ? sum / count : double.NaN;
            run.LastEvalLoss = loss;
            run.History.Add(new LogHistoryEntry(run.Step, null, null, null, loss));
            events.Publish(new EvalEvent(run.Step, loss, count, samples));
        }
        finally
        {
            m.train();
            events.Publish(new PhaseEvent(TrainingPhase.Training));
        }
    }

    // The prompt is everything before the first trained token; the completion is a short greedy continuation.
    static SampleGeneration Sample(CausalLM model, HfTokenizer tokenizer, EncodedSample sample)
    {
        var promptLength = Array.FindIndex(sample.Labels, l => l != CausalLmLoss.IgnoreIndex);
        var prompt = sample.InputIds[..(promptLength > 0 ? promptLength : sample.InputIds.Length)];
        var generated = TextGenerator.Generate(model, prompt.Select(i => (long)i).ToList(), new GenerationOptions
        {
            MaxNewTokens = 32,
            EosTokenIds = tokenizer.Special.StopIds.Select(i => (long)i).ToList(),
        });
        return new SampleGeneration(tokenizer.Decode(prompt, skipSpecialTokens: true),
            tokenizer.Decode(generated.Select(i => (int)i).ToArray(), skipSpecialTokens: true));
    }

    void Save(TrainerCheckpoints checkpoints, AdamWOptimizer optimizer, RunState run, long totalSteps, bool emergency)
    {
        events.Publish(new PhaseEvent(TrainingPhase.Saving, $"step {run.Step}{(emergency ? " (emergency)" : "")}"));
        var state = new TrainerState
        {
            GlobalStep = run.Step,
            MaxSteps = totalSteps,
            Epoch = run.Cursor.Epoch,
            SamplesInEpoch = run.Cursor.Index,
            LearningRate = optimizer.LearningRate,
            TrainedTokens = run.TrainedTokens,
            Seed = config.Run.Seed,
            TrainingMode = config.IsLora ? "lora" : "full",
            Emergency = emergency,
            LogHistory = run.History.ToList(),
        };
        var saved = checkpoints.Save(state, optimizer, run.Rng);
        run.LastSavedStep = run.Step;
        run.LastCheckpoint = saved.Path;
        if (!emergency) events.Publish(new PhaseEvent(TrainingPhase.Training));
    }

    TrainResult Stop(TrainingPhase outcome, RunState run, long totalSteps, TrainerCheckpoints checkpoints, AdamWOptimizer optimizer)
    {
        if (run.Step > run.LastSavedStep) Save(checkpoints, optimizer, run, totalSteps, emergency: false);
        events.Publish(new PhaseEvent(outcome, $"stopped after step {run.Step} of {totalSteps}"));
        run.Dispose();
        return new TrainResult(outcome, run.Step, totalSteps, run.LastLoss, run.LastEvalLoss, run.LastCheckpoint);
    }

    /// <summary>Where the loop stands; what a checkpoint records.</summary>
    sealed class RunState : IDisposable
    {
        public long Step;
        public long LastSavedStep;
        public bool InUpdate;
        public long TrainedTokens;
        public double? LastLoss, LastEvalLoss;
        public string? LastCheckpoint;
        public DataCursor Cursor;
        public List<LogHistoryEntry> History { get; } = [];
        /// <summary>torch's RNG after the last completed step, so every checkpoint (emergency ones too) replays dropout exactly.</summary>
        public Tensor Rng { get; private set; } = empty(0, dtype: ScalarType.Byte);

        public void SnapshotRng()
        {
            var next = get_rng_state().DetachFromDisposeScope();
            Rng.Dispose();
            Rng = next;
        }

        public void Dispose() => Rng.Dispose();
    }
}
