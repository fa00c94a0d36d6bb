using Sft.Training.Config.Memory;
using Sft.Training.Config.Yaml;
using Sft.Training.Models;

namespace Sft.Training.Config.Binding;

/// <summary>
/// Binds the whole tree: each section in turn, then the checks that span sections (sequence length,
/// LoRA targets against the model, schedule against max_steps, evaluation data) and the memory estimate.
/// </summary>
public static class ConfigBinder
{
    public static (TrainConfig? Config, MemoryEstimate? Memory) Bind(YamlMappingNode tree, BindContext ctx)
    {
        var root = new SectionReader(tree, "", ctx.Issues);
        var run = RunBinder.Bind(root, ctx);

        var trainBlock = root.Section("train_dataset") is { } t ? DataBinder.Bind(t, ctx, isEval: false, inheritFrom: null) : null;
        if (trainBlock is null && !tree.ContainsKey("train_dataset"))
            ctx.Issues.Error("train_dataset", tree.Position, "no training data: train_dataset is missing.",
                "add train_dataset: {data_loader: {type: CommonDataLoader, path: ..., handler: [...]}}.");
        var evalBlock = root.Section("eval_dataset") is { } e ? DataBinder.Bind(e, ctx, isEval: true, inheritFrom: trainBlock) : null;
        if (evalBlock?.Tokenizer is { } evalTokenizer)
            ctx.Issues.Ignored(evalTokenizer.Path, evalTokenizer.Position, "train_dataset's tokenizer is used for evaluation too.");

        var model = ModelBinder.Bind(root, ctx);
        // Pre-tokenized rows need no tokenizer: the model folder may ship none.
        var tokenized = trainBlock?.Data?.Spec.Format == Sft.Data.Datasets.Formats.DatasetFormat.PreTokenized;
        var tokenizer = TokenizerBinder.Bind(trainBlock?.Tokenizer, model.Path, model.At, ctx, required: !tokenized);
        var optimizer = OptimizerBinder.BindOptimizer(root, ctx, out var optimizerLr);
        var schedule = OptimizerBinder.BindSchedule(root, ctx, optimizerLr);
        var clip = OptimizerBinder.BindClipping(root, ctx);
        var (epochs, batch, accumulation, maxSteps) = LoopBinder.BindRunner(root, ctx);
        var recompute = LoopBinder.BindRecompute(root, ctx);
        var (logInterval, checkpoints) = LoopBinder.BindCallbacks(root, ctx);
        var parallel = LoopBinder.BindParallel(root, ctx, run, batch, accumulation);
        LoopBinder.BindMoe(root, ctx);
        var (doEval, evalSteps, evalEpochs) = LoopBinder.BindEvalKeys(root, ctx);
        root.Finish();

        var seqLength = SeqLength(trainBlock, model, ctx);
        if (model.Lora is { } lora && model.Architecture is { } arch) CheckTargets(lora, arch, model, ctx);
        if (maxSteps is { } ms && schedule.TotalSteps is { } ts && ts < ms)
            ctx.Issues.Warning("lr_schedule.total_steps", (tree["lr_schedule"] as YamlMappingNode)?["total_steps"]?.Position ?? tree.Position,
                $"total_steps {ts} is below runner_config.max_steps {ms}: the schedule ends early and holds lr_end.", "use total_steps: -1 to follow the run.");

        var train = trainBlock?.Data is { } d ? d with { SeqLength = seqLength ?? 0 } : null;
        var evalData = evalBlock?.Data is { } ed ? ed with { SeqLength = ed.SeqLength > 0 ? ed.SeqLength : seqLength ?? 0 } : null;
        if (doEval && evalData is null && train is { ValidationRatio: 0 })
            ctx.Issues.Error("do_eval", root.PositionOf("do_eval"), "do_eval is True but there is no evaluation data.",
                "add eval_dataset, or hold out rows with train_dataset.data_loader.validation_ratio: 0.05.");
        if (!doEval && (evalData is not null || train?.ValidationRatio > 0))
            ctx.Issues.Warning("do_eval", root.PositionOf("do_eval"), "evaluation data is configured but do_eval is not True: no evaluation runs.",
                "set do_eval: True.");

        MemoryEstimate? memory = null;
        if (model.Architecture is { } md && seqLength is { } sl)
        {
            var cpu = run.Device.Kind == DeviceKind.Cpu || (run.Device.Kind == DeviceKind.Auto && ctx.Options.AvailableCudaDevices == 0);
            memory = MemoryEstimator.Estimate(md, new MemoryInputs(model.ComputeDtype, batch, sl, model.Lora?.Settings,
                recompute.LayersOf(md.NumHiddenLayers), cpu));
        }
        else if (model.Architecture is null)
            ctx.Issues.Warning("load_checkpoint", model.At,
                "no memory estimate: the architecture is unknown (no usable config.json, and model.model_config does not give every dimension).");

        if (ctx.Issues.HasErrors || train is null) return (null, memory);
        var config = new TrainConfig(
            run,
            new ModelSection(model.Source, model.Kind, model.Path, model.Architecture, model.NumLayers, model.ComputeDtype, seqLength ?? 0),
            model.Lora,
            tokenizer,
            optimizer with { LearningRate = schedule.LearningRate },
            schedule,
            new LoopSection(epochs, batch, accumulation, maxSteps, clip, logInterval, recompute),
            train,
            new EvalSection(doEval, evalData, evalSteps, evalEpochs),
            checkpoints,
            parallel);
        return (config, memory);
    }

    /// <summary>The data handler's seq_length, else model_config.seq_length; a mismatch is a warning, none at all an error.</summary>
    static int? SeqLength(DataBlock? train, ModelFacts model, BindContext ctx)
    {
        var data = train?.SeqLength;
        if (data is not null && model.SeqLength is not null && data != model.SeqLength)
            ctx.Issues.Warning("model.model_config.seq_length", model.SeqLengthAt,
                $"{model.SeqLength} differs from the data handler's seq_length {data}; samples are cut at {data}.",
                "use the same value (an anchor such as &seq_length keeps them equal).");
        var length = data ?? model.SeqLength;
        if (length is null && train?.Data is not null)
            ctx.Issues.Error("train_dataset.data_loader.handler", train.At, "no sequence length: neither the data handler nor model.model_config sets seq_length.",
                "add a handler '- type: AlpacaInstructDataHandler' with seq_length: 2048.");
        if (length is { } l && model.Architecture is { MaxPositionEmbeddings: > 0 } dims && l > dims.MaxPositionEmbeddings)
            ctx.Issues.Warning("train_dataset.data_loader.handler", train?.At ?? model.SeqLengthAt,
                $"seq_length {l} exceeds the model's max_position_embeddings {dims.MaxPositionEmbeddings}.", $"use seq_length ≤ {dims.MaxPositionEmbeddings}.");
        return length;
    }

    /// <summary>The targets must select at least one projection, and never lm_head or the embedding (the engine adapts projections only).</summary>
    static void CheckTargets(LoraSection lora, ModelConfig model, ModelFacts facts, BindContext ctx)
    {
        var targets = lora.Settings.Targets;
        var path = $"{facts.LoraPath}.target_modules";
        if (targets.Matches("lm_head") || targets.Matches("model.embed_tokens"))
            ctx.Issues.Error(path, facts.LoraTargetsAt, $"'{targets.Describe()}' selects lm_head or the embedding; adapters go on the attention and MLP projections only.",
                "name projections such as q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (or MindFormers' wq ... w3).");
        else if (!LinearModules.Adaptable(model).Any(m => targets.Matches(m.Name)))
            ctx.Issues.Error(path, facts.LoraTargetsAt, $"'{targets.Describe()}' matches none of the model's projections (e.g. model.layers.0.self_attn.q_proj).",
                "name projections such as q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (or MindFormers' wq ... w3); a regex must match the whole name.");
    }
}
