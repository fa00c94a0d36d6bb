using Sft.Training.Engine;

namespace Sft.Training.Config.Binding;

/// <summary><c>optimizer</c> (AdamW), <c>lr_schedule</c> (constant / linear / cosine and the MindFormers names), and gradient clipping from <c>runner_wrapper</c>.</summary>
public static class OptimizerBinder
{
    static readonly IReadOnlyList<string> AdamW = ["AdamW", "AdamWeightDecay", "FusedAdamWeightDecay", "adamw", "adamw_torch"];

    static readonly IReadOnlyList<string> Unsupported =
        ["SGD", "Adam", "Lamb", "Came", "FP32StateAdamWeightDecay", "PmaAdamW", "Muon", "Adafactor"];

    /// <summary>Schedule type names → kind; MindFormers' names first, then Hugging Face's.</summary>
    static readonly IReadOnlyDictionary<string, LrScheduleKind> Schedules = new Dictionary<string, LrScheduleKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["CosineWithWarmUpLR"] = LrScheduleKind.Cosine,
        ["LinearWithWarmUpLR"] = LrScheduleKind.Linear,
        ["ConstantWarmUpLR"] = LrScheduleKind.Constant,
        ["cosine"] = LrScheduleKind.Cosine,
        ["linear"] = LrScheduleKind.Linear,
        ["constant"] = LrScheduleKind.Constant,
        ["constant_with_warmup"] = LrScheduleKind.Constant,
    };

    static readonly IReadOnlyList<string> UnsupportedSchedules =
        ["CosineWithRestartsAndWarmUpLR", "PolynomialWithWarmUpLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
         "WarmUpStableDecayLR", "LearningRateWiseLayer", "polynomial", "cosine_with_restarts", "inverse_sqrt", "reduce_lr_on_plateau"];

    public static AdamWOptions BindOptimizer(SectionReader root, BindContext ctx, out double? optimizerLr)
    {
        optimizerLr = null;
        var o = root.Section("optimizer");
        if (o is null) return new AdamWOptions(0, WeightDecay: 0.0);
        var type = o.Choice("type", [.. AdamW, .. Unsupported], "SFT Studio uses AdamW: set type: AdamW.");
        if (type is not null && !AdamW.Contains(type))
            ctx.Issues.Error(o.KeyPath("type"), o.PositionOf("type"), $"optimizer {type} is not supported.", "use type: AdamW.");
        var betas = o.DoubleList("betas", 2);
        if (betas is not null)
            for (var i = 0; i < 2; i++)
                if (betas[i] is < 0 or >= 1)
                    ctx.Issues.Error($"{o.KeyPath("betas")}[{i}]", o.PositionOf("betas"), $"beta{i + 1} must be in [0, 1), got {NodeValues.Format(betas[i])}.",
                        "typical values are [0.9, 0.95] or [0.9, 0.999].");
        var eps = o.Double("eps", 1e-8, min: 0, minExclusive: true);
        optimizerLr = o.Double("learning_rate", min: 0, minExclusive: true, hint: "use a positive rate such as 1.e-5.");
        var decay = o.Double("weight_decay", 0.0, min: 0, hint: "use a value ≥ 0 such as 0.01.");
        o.Finish();
        var b1 = betas is { } b && b[0] is >= 0 and < 1 ? b[0] : 0.9;
        var b2 = betas is { } c && c[1] is >= 0 and < 1 ? c[1] : 0.999;
        return new AdamWOptions(optimizerLr ?? 0, b1, b2, eps, decay);
    }

    public static LrScheduleSection BindSchedule(SectionReader root, BindContext ctx, double? optimizerLr)
    {
        var s = root.Section("lr_schedule");
        if (s is null)
        {
            if (optimizerLr is null && !root.Map.ContainsKey("lr_schedule"))
                ctx.Issues.Error("optimizer.learning_rate", root.PositionOf("optimizer"), "no learning rate: neither optimizer nor lr_schedule sets one.",
                    "add lr_schedule: {type: CosineWithWarmUpLR, learning_rate: 1.e-5, warmup_ratio: 0.03, total_steps: -1}.");
            return new LrScheduleSection(LrScheduleKind.Constant, "constant", optimizerLr ?? 0, optimizerLr ?? 0, 0, null, null);
        }

        var typeName = s.String("type") ?? "constant";
        LrScheduleKind kind = LrScheduleKind.Constant;
        if (!Schedules.TryGetValue(typeName, out kind))
        {
            var supported = string.Join(", ", Schedules.Keys);
            var near = KeySuggester.Nearest(typeName, Schedules.Keys);
            ctx.Issues.Error(s.KeyPath("type"), s.PositionOf("type"),
                UnsupportedSchedules.Contains(typeName, StringComparer.OrdinalIgnoreCase)
                    ? $"schedule {typeName} is not supported."
                    : $"unknown schedule '{typeName}'.{(near is null ? "" : $" Did you mean '{near}'?")}",
                $"use one of: {supported}.");
        }

        var lr = s.Double("learning_rate", min: 0, minExclusive: true, hint: "use a positive rate such as 1.e-5.");
        if (lr is null && optimizerLr is null && !s.Map.ContainsKey("learning_rate"))
            ctx.Issues.Error(s.KeyPath("learning_rate"), s.Position, "no learning rate.", "add learning_rate: 1.e-5.");
        if (lr is not null && optimizerLr is not null && Math.Abs(lr.Value - optimizerLr.Value) > 1e-15)
            ctx.Issues.Warning("optimizer.learning_rate", root.Section("optimizer")?.PositionOf("learning_rate") ?? s.Position,
                $"{NodeValues.Format(optimizerLr.Value)} differs from lr_schedule.learning_rate {NodeValues.Format(lr.Value)}; the schedule's value is used (as in MindFormers).",
                "remove optimizer.learning_rate or make the two equal.");
        var peak = lr ?? optimizerLr ?? 0;

        var lrEnd = s.Double("lr_end", 0, min: 0);
        if (peak > 0 && lrEnd > peak)
            ctx.Issues.Error(s.KeyPath("lr_end"), s.PositionOf("lr_end"), $"lr_end {NodeValues.Format(lrEnd)} is above learning_rate {NodeValues.Format(peak)}.",
                "lr_end is where the decay ends: use a value ≤ learning_rate (often 0 or learning_rate/10).");
        var warmupSteps = s.Int("warmup_steps", min: 0);
        var warmupRatio = s.Double("warmup_ratio", min: 0, max: 1, hint: "use a fraction of the run such as 0.03.");
        if (warmupSteps > 0 && warmupRatio > 0)
            ctx.Issues.Error(s.KeyPath("warmup_ratio"), s.PositionOf("warmup_ratio"), "warmup_steps and warmup_ratio are both set.",
                "keep one of them (warmup_ratio is a fraction of total steps).");
        if (warmupRatio is 0) warmupRatio = null;
        if (warmupSteps is 0 && warmupRatio is not null) warmupSteps = null;

        int? totalSteps = null;
        if (s.Int("total_steps") is { } total)
        {
            if (total == 0 || total < -1)
                ctx.Issues.Error(s.KeyPath("total_steps"), s.PositionOf("total_steps"), $"total_steps must be -1 (the length of the run) or ≥ 1, got {total}.",
                    "use -1 to follow the run's optimizer steps.");
            else if (total > 0) totalSteps = total;
        }
        if (totalSteps is { } t && warmupSteps is { } w && w >= t)
            ctx.Issues.Error(s.KeyPath("warmup_steps"), s.PositionOf("warmup_steps"), $"warmup_steps {w} is not below total_steps {t}.",
                "make warm-up a small part of the run.");
        // The engine's schedule (Engine.LrSchedule) warms up from 0 and decays once over the remaining steps.
        if (s.Double("warmup_lr_init", min: 0) is > 0)
            ctx.Issues.Error(s.KeyPath("warmup_lr_init"), s.PositionOf("warmup_lr_init"), "warm-up starting above 0 is not supported.",
                "remove warmup_lr_init (warm-up rises from 0 to learning_rate).");
        if (s.Double("num_cycles", min: 0, minExclusive: true) is { } cycles && Math.Abs(cycles - 0.5) > 1e-12)
            ctx.Issues.Error(s.KeyPath("num_cycles"), s.PositionOf("num_cycles"), $"num_cycles {NodeValues.Format(cycles)} is not supported: the cosine decays once (0.5).",
                "remove num_cycles.");
        if (s.Has("decay_steps"))
            ctx.Issues.Error(s.KeyPath("decay_steps"), s.PositionOf("decay_steps"), "decay_steps is not supported: the decay runs until total_steps.",
                "remove decay_steps and set total_steps instead.");
        if (kind == LrScheduleKind.Constant && s.Map.ContainsKey("lr_end"))
            ctx.Issues.Ignored(s.KeyPath("lr_end"), s.KeyPosition("lr_end"), "a constant schedule does not decay.");
        s.Finish();
        return new LrScheduleSection(kind, typeName, peak, kind == LrScheduleKind.Constant ? peak : lrEnd, warmupSteps, warmupRatio, totalSteps);
    }

    /// <summary><c>runner_wrapper</c>: gradient clipping; loss scaling and the MindSpore cell type do nothing here.</summary>
    public static double? BindClipping(SectionReader root, BindContext ctx)
    {
        if (root.Section("runner_wrapper") is not { } w) return null;
        w.Ignore("MindSpore training cell; the engine's own loop is used.", "type");
        w.Ignore("loss scaling for float16 on Ascend; bfloat16 and float32 need none.", "scale_sense");
        w.Ignore(Reasons.Ascend, "local_norm", "use_skip_data_by_global_norm", "calculate_per_token_loss", "global_norm_spike_threshold",
            "use_local_norm", "print_separate_loss");
        var clip = w.Bool("use_clip_grad", false);
        var norm = w.Double("max_grad_norm", 1.0, min: 0, minExclusive: true, hint: "use a positive norm such as 1.0.");
        if (!clip && w.Map.ContainsKey("max_grad_norm"))
            ctx.Issues.Warning(w.KeyPath("max_grad_norm"), w.PositionOf("max_grad_norm"), "has no effect: use_clip_grad is not True.",
                "set use_clip_grad: True to clip gradients.");
        w.Finish();
        return clip ? norm : null;
    }
}
