using System.Text.RegularExpressions;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>Top-level job keys: seed, output_dir, run_mode, resume_training, device, devices; and the top-level keys that do nothing here.</summary>
public static partial class RunBinder
{
    public static RunSection Bind(SectionReader root, BindContext ctx)
    {
        var seed = root.Int("seed", 42, min: 0);
        var outputDir = root.String("output_dir") is { Length: > 0 } o ? o : "./output";
        var mode = root.Choice("run_mode", ["finetune", "train", "predict", "eval"]) ?? "finetune";
        if (mode is "predict" or "eval")
        {
            ctx.Issues.Error(root.KeyPath("run_mode"), root.PositionOf("run_mode"),
                $"run_mode '{mode}' is not a training run; SFT Studio runs fine-tuning jobs.", "set run_mode: 'finetune'.");
        }
        var resume = Resume(root, ctx);
        var device = Device(root, ctx);
        var devices = Devices(root, ctx);
        if (devices is { Count: > 0 })
        {
            if (device.Kind != DeviceKind.Auto && device != devices[0])
                ctx.Issues.Error(root.KeyPath("device"), root.PositionOf("device"),
                    $"device '{device}' disagrees with devices [{string.Join(", ", devices)}], whose first entry is the primary device.",
                    "remove device (devices says where every replica runs), or make it the first entry of devices.");
            device = devices[0];
        }

        IgnoreTopLevel(root);
        return new RunSection(seed, ctx.FullPath(outputDir), mode == "train" ? RunMode.Train : RunMode.Finetune, resume, device, devices);
    }

    static ResumeSetting Resume(SectionReader root, BindContext ctx)
    {
        if (root.Node("resume_training") is not { } node) return new ResumeSetting(false, null);
        if (node is YamlScalarNode { Quoted: false } s && YamlScalars.TryBool(s.Value, out var flag)) return new ResumeSetting(flag, null);
        if (node is YamlScalarNode name && name.Value.Length > 0) return new ResumeSetting(true, name.Value);
        ctx.Issues.Error(root.KeyPath("resume_training"), node.Position, $"expected true/false or a checkpoint name, got {node.Describe()}.",
            "write resume_training: True to resume from the newest checkpoint.");
        return new ResumeSetting(false, null);
    }

    static DeviceSpec Device(SectionReader root, BindContext ctx) =>
        root.String("device") is { } text ? Parse(text, root.KeyPath("device"), root.PositionOf("device"), ctx) : DeviceSpec.Auto;

    /// <summary>
    /// <c>devices: [cuda:0, cuda:1]</c> (or <c>[cpu, cpu]</c>): one data-parallel replica per entry. Entries are explicit
    /// (<c>cpu</c> or <c>cuda:N</c>), all of one kind, and a GPU appears once.
    /// </summary>
    static IReadOnlyList<DeviceSpec>? Devices(SectionReader root, BindContext ctx)
    {
        if (root.List("devices") is not { } items) return null;
        if (items.Count == 0)
        {
            ctx.Issues.Error(root.KeyPath("devices"), root.PositionOf("devices"), "devices is empty.", "list at least one device, e.g. devices: [cuda:0, cuda:1].");
            return null;
        }
        var result = new List<DeviceSpec>();
        foreach (var (node, path) in items)
        {
            if (!NodeValues.TryString(node, path, ctx.Issues, out var text)) return null;
            var spec = Parse(text, path, node.Position, ctx);
            if (spec.Kind == DeviceKind.Auto || spec is { Kind: DeviceKind.Cuda, Index: null })
            {
                ctx.Issues.Error(path, node.Position, $"'{text}' names no single device.", "list each device explicitly: cpu or cuda:N.");
                return null;
            }
            if (result.Count > 0 && spec.Kind != result[0].Kind)
            {
                ctx.Issues.Error(path, node.Position, $"'{text}' mixes {spec.Kind} with {result[0].Kind} replicas.",
                    "put every replica on the same kind of device: all cuda:N, or all cpu.");
                return null;
            }
            if (spec.Kind == DeviceKind.Cuda && result.Contains(spec))
            {
                ctx.Issues.Error(path, node.Position, $"'{text}' is listed twice; a GPU holds one replica.", "list each GPU once.");
                return null;
            }
            result.Add(spec);
        }
        return result;
    }

    static DeviceSpec Parse(string text, string path, SourcePosition at, BindContext ctx)
    {
        var match = DevicePattern().Match(text.Trim().ToLowerInvariant());
        if (!match.Success)
        {
            ctx.Issues.Error(path, at, $"'{text}' is not a device.", "use auto, cpu, cuda or cuda:N (N = GPU index).");
            return DeviceSpec.Auto;
        }
        var kind = match.Groups["kind"].Value;
        if (kind == "auto") return DeviceSpec.Auto;
        if (kind == "cpu") return new DeviceSpec(DeviceKind.Cpu);
        int? index = match.Groups["index"].Success ? int.Parse(match.Groups["index"].Value) : null;
        var available = ctx.Options.AvailableCudaDevices;
        if (available == 0)
            ctx.Issues.Error(path, at, $"device '{text}' needs a CUDA GPU; this machine has none.", "use device: auto (or cpu).");
        else if (index >= available)
            ctx.Issues.Error(path, at, $"device '{text}' does not exist; this machine has {available} CUDA device(s) (cuda:0 to cuda:{available - 1}).",
                $"use cuda:0 ... cuda:{available - 1}, or cuda for all of them.");
        return new DeviceSpec(DeviceKind.Cuda, index);
    }

    /// <summary>Number of devices the job trains on: 1 for cpu and cuda:N, every GPU for cuda/auto.</summary>
    public static int DeviceCount(DeviceSpec device, int availableCuda) => device switch
    {
        { Kind: DeviceKind.Cpu } => 1,
        { Kind: DeviceKind.Cuda, Index: not null } => 1,
        _ => Math.Max(1, availableCuda),
    };

    static void IgnoreTopLevel(SectionReader root)
    {
        root.Ignore(Reasons.DistributedCheckpoint, "auto_trans_ckpt", "only_save_strategy", "src_strategy_path_or_dir",
            "transform_process_num", "load_ckpt_async", "remove_redundancy", "balanced_load");
        root.Ignore(Reasons.Ascend, "context", "parallel", "micro_batch_interleave_num", "swap_config", "use_legacy",
            "local_rank", "device_num", "print_separate_loss");
        root.Ignore(Reasons.Profiling, "profile", "profile_start_step", "profile_stop_step", "init_start_profile",
            "profile_communication", "profile_memory", "profile_rank_ids", "profile_pipeline", "profile_level", "mstx");
        root.Ignore("layer-wise learning-rate decay is not supported; one learning rate is used for all parameters.",
            "layer_scale", "layer_decay");
        root.Ignore("batch-size LR scaling (lr_scale) is not supported; the learning rate is used as written.",
            "lr_scale", "lr_scale_factor");
        root.Ignore("MindFormers trainer class; the SFT Studio trainer runs every job.", "trainer");
        root.Ignore(Reasons.Alias, "train_dataset_task", "eval_dataset_task");
        root.Ignore("tokenization here comes from the data handler's tokenizer block or the model folder.", "processor");
        root.Ignore("metrics for MindFormers' evaluate mode; evaluation here reports the eval loss.", "metric");
        root.Ignore("MindFormers training monitor; metrics are streamed by SFT Studio.", "monitor_config", "tensorboard");
    }

    [GeneratedRegex(@"^(?<kind>auto|cpu)$|^(?<kind>cuda)(:(?<index>[0-9]+))?$")]
    private static partial Regex DevicePattern();
}
