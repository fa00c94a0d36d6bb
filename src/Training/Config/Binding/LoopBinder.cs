using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>
/// The loop: <c>runner_config</c> (epochs, batch size, accumulation, our <c>max_steps</c>), <c>recompute_config</c>,
/// <c>callbacks</c> (MFLossMonitor's print interval, CheckpointMonitor), <c>parallel_config</c> with
/// <c>use_parallel</c>, <c>moe_config</c>, and the evaluation keys (<c>do_eval</c>, <c>eval_step_interval</c>, ...).
/// </summary>
public static class LoopBinder
{
    static readonly string[] IgnoredCallbacks =
        ["SummaryMonitor", "ProfileMonitor", "TrainingStateMonitor", "ObsMonitor", "EvalCallBack", "StressDetectCallBack",
         "TrainFaultTolerance", "ColdHotExpertMonitor", "TopkBiasBalanceCallback", "MoEDropRateCallback", "MaxLogitsMonitor"];

    public static (int Epochs, int Batch, int Accumulation, int? MaxSteps) BindRunner(SectionReader root, BindContext ctx)
    {
        if (root.Section("runner_config") is not { } r) return (1, 1, 1, null);
        var epochs = r.Int("epochs", 1, min: 1);
        var batch = r.Int("batch_size", 1, min: 1, hint: "use a batch size ≥ 1 (samples per device per step).");
        var accumulation = r.Int("gradient_accumulation_steps", 1, min: 1);
        int? maxSteps = null;
        if (r.Int("max_steps") is { } m)
        {
            if (m == 0 || m < -1)
                ctx.Issues.Error(r.KeyPath("max_steps"), r.PositionOf("max_steps"), $"max_steps must be -1 (no limit) or ≥ 1, got {m}.", "use -1 to run every epoch.");
            else if (m > 0) maxSteps = m;
        }
        r.Ignore("Ascend data sinking; steps run one by one here.", "sink_mode", "sink_size");
        r.Ignore("the resume position comes from the checkpoint.", "initial_epoch", "initial_step");
        r.Ignore(Reasons.Ascend, "stop_step", "ckpt_step_interval");
        r.Finish();
        return (epochs, batch, accumulation, maxSteps);
    }

    public static RecomputeSection BindRecompute(SectionReader root, BindContext ctx)
    {
        if (root.Section("recompute_config") is not { } r) return new RecomputeSection(false, null);
        r.Ignore("operator-level recompute of the Ascend graph; whole decoder layers are recomputed here.",
            "select_recompute", "select_comm_recompute", "parallel_optimizer_comm_recompute", "mp_comm_recompute",
            "recompute_slice_activation", "select_recompute_exclude", "select_comm_recompute_exclude");
        var result = new RecomputeSection(false, null);
        if (r.Node("recompute") is { } node)
        {
            var path = r.KeyPath("recompute");
            var issues = new IssueCollector();
            if (node is YamlScalarNode { Quoted: false } s && YamlScalars.TryBool(s.Value, out var on)) result = new RecomputeSection(on, null);
            else if (node is YamlScalarNode && NodeValues.TryInt(node, path, issues, out var n) && n >= 0)
                result = new RecomputeSection(n > 0, n);
            else if (node is YamlSequenceNode seq)
            {
                // MindFormers: layers to recompute per pipeline stage; all stages run on one device here.
                var total = 0;
                foreach (var (item, i) in seq.Items.Select((x, i) => (x, i)))
                    if (NodeValues.TryInt(item, $"{path}[{i}]", ctx.Issues, out var k) && k >= 0) total += k;
                    else if (k < 0) ctx.Issues.Error($"{path}[{i}]", item.Position, $"must be ≥ 0, got {k}.", "count layers per stage (0 or more).");
                result = new RecomputeSection(total > 0, total);
            }
            else
                ctx.Issues.Error(path, node.Position, $"expected True/False, a layer count or a list of counts per stage, got {node.Describe()}.",
                    "write recompute: True (all layers) or recompute: 8 (the first 8 layers).");
        }
        r.Finish();
        return result;
    }

    public static (int LogInterval, CheckpointSection Checkpoints) BindCallbacks(SectionReader root, BindContext ctx)
    {
        var logInterval = 1;
        var checkpoints = new CheckpointSection(null, 5, true);
        if (root.List("callbacks") is not { } items) return (logInterval, checkpoints);
        var sawCheckpoint = false;
        foreach (var (node, path) in items)
        {
            if (node is not YamlMappingNode map)
            {
                ctx.Issues.Error(path, node.Position, $"expected a callback mapping with a type, got {node.Describe()}.", "write '- type: CheckpointMonitor'.");
                continue;
            }
            var c = new SectionReader(map, path, ctx.Issues);
            var type = c.String("type");
            switch (type)
            {
                case "MFLossMonitor":
                    logInterval = c.Int("per_print_times", 1, min: 1);
                    c.Ignore(Reasons.RunTimeFilled, "learning_rate", "micro_batch_num", "micro_batch_interleave_num", "origin_epochs",
                        "dataset_size", "initial_epoch", "initial_step", "global_batch_size", "gradient_accumulation_steps",
                        "check_for_nan_in_loss_and_grad", "calculate_per_token_loss", "print_separate_loss");
                    c.Finish();
                    break;
                case "CheckpointMonitor":
                    if (sawCheckpoint)
                        ctx.Issues.Error(c.KeyPath("type"), c.PositionOf("type"), "a second CheckpointMonitor.", "keep one CheckpointMonitor.");
                    sawCheckpoint = true;
                    checkpoints = Checkpoint(c, ctx);
                    break;
                case not null when IgnoredCallbacks.Contains(type):
                    ctx.Issues.Ignored(path, map.Position, $"MindFormers callback {type}; metrics and checkpoints are handled by SFT Studio.");
                    break;
                case null:
                    ctx.Issues.Error(c.KeyPath("type"), map.Position, "a callback needs a type.", "add type: CheckpointMonitor or type: MFLossMonitor.");
                    break;
                default:
                    var near = KeySuggester.Nearest(type, ["MFLossMonitor", "CheckpointMonitor", .. IgnoredCallbacks]);
                    ctx.Issues.Error(c.KeyPath("type"), c.PositionOf("type"), $"unknown callback '{type}'.{(near is null ? "" : $" Did you mean '{near}'?")}",
                        "use MFLossMonitor (log interval) or CheckpointMonitor (checkpoints).");
                    break;
            }
        }
        return (logInterval, checkpoints);
    }

    static CheckpointSection Checkpoint(SectionReader c, BindContext ctx)
    {
        var steps = c.Int("save_checkpoint_steps", min: 1, hint: "save every N optimizer steps, N ≥ 1.");
        var keep = c.Int("keep_checkpoint_max", 5, min: 1, hint: "keep at least 1 checkpoint.");
        if (c.Choice("checkpoint_format", ["safetensors", "ckpt"]) == "ckpt")
            ctx.Issues.Error(c.KeyPath("checkpoint_format"), c.PositionOf("checkpoint_format"), "MindSpore .ckpt checkpoints are not written here.",
                "set checkpoint_format: 'safetensors' (Hugging Face folders, or PEFT adapters for LoRA).");
        c.Ignore("checkpoints go to data/jobs/{id}/checkpoints/step-N.", "prefix", "directory");
        c.Ignore("LoRA checkpoints hold the adapter and full fine-tuning checkpoints the whole model.", "save_trainable_params", "save_network_params");
        c.Ignore(Reasons.DistributedCheckpoint, "integrated_save", "async_save", "remove_redundancy", "append_info", "exception_save",
            "global_batch_size", "use_checkpoint_health_monitor", "health_ckpts_record_dir", "embedding_local_norm_threshold",
            "last_epoch_num", "save_checkpoint_seconds", "keep_checkpoint_per_n_minutes", "checkpoint_path");
        c.Finish();
        return new CheckpointSection(steps, keep, true);
    }

    /// <summary>
    /// <c>parallel_config</c> applies only to a job that trains on several devices (<c>use_parallel: True</c> and
    /// more than one device, as MindFormers does with <c>--use_parallel</c>). Then only data parallel is supported.
    /// A single-device job reports the layout as not applied. A <c>devices</c> list of several devices must come with
    /// <c>use_parallel: True</c> and <c>data_parallel</c> equal to its length.
    /// </summary>
    public static ParallelSection BindParallel(SectionReader root, BindContext ctx, RunSection run, int batch, int accumulation)
    {
        var useParallel = root.Bool("use_parallel", false);
        var p = root.Section("parallel_config");
        var listed = run.Devices is { Count: > 1 } l ? l : null;
        if (p is null)
        {
            if (listed is not null)
                ctx.Issues.Error(root.KeyPath("devices"), root.PositionOf("devices"),
                    $"devices lists {listed.Count} devices but there is no parallel_config.data_parallel to train on them.",
                    $"add use_parallel: True and parallel_config: {{data_parallel: {listed.Count}}}, or list one device.");
            return new ParallelSection(1, 1);
        }
        var dp = p.Int("data_parallel", 1, min: 1);
        var mp = p.Int("model_parallel", 1, min: 1);
        var pp = p.Int("pipeline_stage", 1, min: 1);
        var cp = p.Int("context_parallel", 1, min: 1);
        var ep = p.Int("expert_parallel", 1, min: 1);
        p.Ignore(Reasons.Ascend, "use_seq_parallel", "micro_batch_num", "vocab_emb_dp", "gradient_aggregation_group", "use_ring_attention",
            "context_parallel_algo", "ulysses_degree_in_cp", "mem_coeff", "optimizer_shard", "seq_split_num", "use_zero3", "recompute");
        p.Finish();

        var devices = listed?.Count ?? RunBinder.DeviceCount(run.Device, ctx.Options.AvailableCudaDevices);
        var declaredDevices = (long)dp * mp * pp * cp;
        if (listed is not null && !useParallel)
        {
            ctx.Issues.Error(root.Has("use_parallel") ? root.KeyPath("use_parallel") : root.KeyPath("devices"),
                root.Has("use_parallel") ? root.PositionOf("use_parallel") : root.PositionOf("devices"),
                $"devices lists {listed.Count} devices but use_parallel is not True, so only one would train.",
                $"set use_parallel: True (with parallel_config.data_parallel: {listed.Count}), or list one device.");
            return new ParallelSection(1, dp);
        }
        if (!useParallel || devices == 1)
        {
            if (declaredDevices > 1)
            {
                var why = !useParallel ? "use_parallel is False" : $"this job runs on 1 device ({run.Device})";
                var batchNote = dp > 1
                    ? $" The global batch here is batch_size {batch} × gradient_accumulation_steps {accumulation}, {dp}× smaller than with data_parallel {dp}; set runner_config.gradient_accumulation_steps: {accumulation * dp} to match it."
                    : "";
                ctx.Issues.Warning(p.Path, p.Position,
                    $"not applied: {why}, so the layout for {declaredDevices} devices (data {dp} × model {mp} × pipeline {pp} × context {cp}) is not used, as in MindFormers without --use_parallel.{batchNote}");
            }
            return new ParallelSection(1, dp);
        }

        var unit = listed is null ? "GPUs" : "devices listed in devices";
        void Refuse(string key, int value, string what)
        {
            if (value > 1)
                ctx.Issues.Error(p.KeyPath(key), p.PositionOf(key),
                    $"{key} {value} ({what}) is not supported: SFT Studio trains data-parallel only (parallel_config.data_parallel), each device holding the whole model.",
                    $"set {key}: 1 and data_parallel to the number of {unit} ({devices}).");
        }
        Refuse("model_parallel", mp, "tensor parallelism");
        Refuse("pipeline_stage", pp, "pipeline parallelism");
        Refuse("context_parallel", cp, "sequence parallelism");
        Refuse("expert_parallel", ep, "expert parallelism");
        if (listed is not null)
        {
            if (dp != devices)
                ctx.Issues.Error(p.KeyPath("data_parallel"), p.PositionOf("data_parallel"),
                    $"data_parallel {dp} does not match devices, which lists {devices} ([{string.Join(", ", listed)}]).",
                    $"set data_parallel: {devices}, or list {dp} devices in devices.");
            return new ParallelSection(devices, dp);
        }
        if (dp > devices)
            ctx.Issues.Error(p.KeyPath("data_parallel"), p.PositionOf("data_parallel"), $"data_parallel {dp} needs {dp} devices; {devices} are available.",
                $"set data_parallel: {devices} (or fewer).");
        else if (dp < devices)
            ctx.Issues.Warning(p.KeyPath("data_parallel"), p.PositionOf("data_parallel"), $"only {dp} of the {devices} devices are used.",
                $"set data_parallel: {devices} to use all of them.");
        return new ParallelSection(Math.Min(dp, devices), dp);
    }

    /// <summary><c>moe_config</c>: dense models only; an expert count above 1 is refused.</summary>
    public static void BindMoe(SectionReader root, BindContext ctx)
    {
        root.Accept("moe_config");
        if (root.Map["moe_config"] is not YamlMappingNode moe) return;
        var experts = moe["expert_num"];
        if (experts is not null && NodeValues.TryInt(experts, "moe_config.expert_num", ctx.Issues, out var n) && n > 1)
            ctx.Issues.Error("moe_config.expert_num", experts.Position, $"expert_num {n}: mixture-of-experts models are not supported.",
                "SFT Studio trains dense Qwen2/Llama models; remove moe_config or set expert_num: 1.");
        else
            ctx.Issues.Ignored("moe_config", root.KeyPosition("moe_config"), "mixture-of-experts settings; the model is dense.");
    }

    /// <summary><c>do_eval</c>, <c>eval_step_interval</c> (-1 = off), <c>eval_epoch_interval</c> (-1 = off).</summary>
    public static (bool Enabled, int? Steps, int? Epochs) BindEvalKeys(SectionReader root, BindContext ctx)
    {
        var enabled = root.Bool("do_eval", false);
        int? Interval(string key, int? fallback)
        {
            if (root.Int(key) is not { } v) return fallback;
            if (v == -1) return null;
            if (v >= 1) return v;
            ctx.Issues.Error(key, root.PositionOf(key), $"must be -1 (off) or ≥ 1, got {v}.", "use -1 to turn it off.");
            return null;
        }
        var epochs = Interval("eval_epoch_interval", null);
        var steps = Interval("eval_step_interval", epochs is null ? 100 : null);
        return (enabled, steps, epochs);
    }
}
