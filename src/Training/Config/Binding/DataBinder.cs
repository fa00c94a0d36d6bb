using System.Text.RegularExpressions;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>What <see cref="DataBinder"/> read from one <c>train_dataset</c>/<c>eval_dataset</c> block.</summary>
/// <param name="Tokenizer">the instruct handler's tokenizer block, for <see cref="TokenizerBinder"/></param>
/// <param name="SeqLength">the instruct handler's seq_length, null if not set</param>
public sealed record DataBlock(DatasetSection? Data, SectionReader? Tokenizer, int? SeqLength, SourcePosition At);

/// <summary>
/// <c>train_dataset</c> / <c>eval_dataset</c>: the MindFormers data_loader (CommonDataLoader/HFDataLoader with
/// path, data_files, split, shuffle, packing and the handler list) plus our keys format, columns, template,
/// train_on_prompt and validation_ratio.
/// </summary>
public static partial class DataBinder
{
    public static readonly IReadOnlyList<string> Formats = ["auto", "alpaca", "sharegpt", "messages", "tokenized"];
    public static readonly IReadOnlyList<string> Templates = ["alpaca", "chatml"];

    /// <summary>Logical column names each format reads (the keys of <c>columns</c>), with their default column.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> DefaultColumns =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["alpaca"] = new Dictionary<string, string>
                { ["instruction"] = "instruction", ["input"] = "input", ["output"] = "output", ["system"] = "system", ["history"] = "history" },
            ["sharegpt"] = new Dictionary<string, string>
                { ["messages"] = "conversations", ["role"] = "from", ["content"] = "value", ["system"] = "system" },
            ["messages"] = new Dictionary<string, string>
                { ["messages"] = "messages", ["role"] = "role", ["content"] = "content" },
            ["tokenized"] = new Dictionary<string, string>
                { ["input_ids"] = "input_ids", ["labels"] = "labels", ["attention_mask"] = "attention_mask" },
        };

    /// <summary>Hugging Face builder names that read <c>data_files</c> (MindFormers: <c>path: json</c>).</summary>
    static readonly IReadOnlyList<string> Builders = ["json", "csv", "parquet", "text", "arrow"];

    static readonly IReadOnlyList<string> DataExtensions = [".json", ".jsonl", ".parquet", ".csv", ".txt", ".arrow"];

    const string InstructHandler = "AlpacaInstructDataHandler";
    const string PackingHandlerType = "PackingHandler";

    public static DataBlock Bind(SectionReader block, BindContext ctx, bool isEval, DataBlock? inheritFrom)
    {
        block.Ignore(Reasons.MsDataset, "input_columns", "construct_args_key", "output_columns", "python_multiprocessing",
            "num_parallel_workers", "numa_enable", "prefetch_size", "repeat", "eod_reset", "seed", "pad_token_id", "tokenizer");
        block.Ignore("runner_config.batch_size sets the batch size.", "batch_size");
        var dropRemainder = block.Bool("drop_remainder", true);
        var loader = block.Section("data_loader");
        if (loader is null)
        {
            if (!block.Map.ContainsKey("data_loader"))
                ctx.Issues.Error(block.KeyPath("data_loader"), block.Position, "missing data_loader.",
                    "add data_loader: {type: CommonDataLoader, path: <file, folder or Hub id>} under " + block.Path + ".");
            block.Finish();
            return new DataBlock(null, null, null, block.Position);
        }
        block.Finish();

        var type = loader.Choice("type", ["CommonDataLoader", "HFDataLoader", "MindDataset", "MultiSourceDataLoader", "BlendedMegatronDatasetDataLoader"]);
        if (type is "MindDataset" or "MultiSourceDataLoader" or "BlendedMegatronDatasetDataLoader")
            ctx.Issues.Error(loader.KeyPath("type"), loader.PositionOf("type"),
                $"{type} (MindRecord/Megatron data) is not supported.",
                "use type: CommonDataLoader with path: a json/jsonl/parquet/csv file, a folder, or a Hugging Face dataset id.");
        loader.Ignore("used with type: MindDataset only.", "dataset_dir");
        if (loader.Choice("load_func", ["load_dataset", "load_from_disk"]) == "load_from_disk")
            ctx.Issues.Error(loader.KeyPath("load_func"), loader.PositionOf("load_func"), "load_from_disk (Arrow dataset folders) is not supported.",
                "set load_func: load_dataset and point path at the data files.");
        loader.Ignore(Reasons.Ascend, "adaptor_config", "column_names", "create_attention_mask", "create_compressed_eod_mask",
            "compressed_eod_mask_length", "use_broadcast_data");
        loader.Ignore(Reasons.HfLoader, "cache_dir", "streaming", "num_proc", "trust_remote_code", "token", "use_auth_token",
            "keep_in_memory", "download_mode", "download_config", "verification_mode", "ignore_verifications", "features",
            "storage_options", "data_dir", "task", "save_infos");

        var split = loader.String("split") ?? "train";
        var name = loader.String("name");
        var revision = loader.String("revision");
        var shuffle = loader.Bool("shuffle", false);
        var packingKey = loader.Choice("packing", ["pack", "truncate"]);
        var formatKey = loader.Choice("format", Formats);
        var validationRatio = loader.Double("validation_ratio", 0, min: 0, max: 1, maxExclusive: true,
            hint: "hold out a fraction such as 0.05 (0 = none).");
        if (isEval && validationRatio > 0)
            ctx.Issues.Error(loader.KeyPath("validation_ratio"), loader.PositionOf("validation_ratio"),
                "validation_ratio belongs to train_dataset (it holds rows of the training data out).", "move it to train_dataset.data_loader.");

        var handlers = Handlers(loader, ctx);
        // MindFormers' AlpacaInstructDataHandler reads Alpaca rows; without it the rows' shape is detected.
        var format = formatKey ?? (handlers.HasInstruct ? "alpaca" : inheritFrom?.Data?.Format ?? "auto");
        var columns = Columns(loader, format, ctx);
        var source = Source(loader, ctx);
        loader.Finish();

        var seqLength = handlers.SeqLength ?? inheritFrom?.SeqLength;
        var template = handlers.Template ?? inheritFrom?.Data?.Template ?? (handlers.HasInstruct ? "alpaca" : "chatml");
        var trainOnPrompt = handlers.TrainOnPrompt ?? inheritFrom?.Data?.TrainOnPrompt ?? false;
        var packing = handlers.Packing ?? PackingMode.None;
        if (handlers.Packing is null && packingKey is not null)
            ctx.Issues.Warning(loader.KeyPath("packing"), loader.PositionOf("packing"),
                $"packing: {packingKey} without a PackingHandler: samples are not packed.",
                "add '- type: PackingHandler' after the instruct handler (as MindFormers requires).");
        if (handlers.Packing is not null && packingKey is not null && handlers.PackStrategyExplicit is false)
            packing = packingKey == "truncate" ? PackingMode.Truncate : PackingMode.Pack;

        if (source is null) return new DataBlock(null, handlers.Tokenizer, handlers.SeqLength, handlers.SeqLengthAt ?? loader.Position);

        var data = new DatasetSection(source.Value.Path, source.Value.Kind, source.Value.Resolved, source.Value.Files,
            split, name, revision, shuffle, dropRemainder, format, columns, template, trainOnPrompt,
            seqLength ?? 0, packing, validationRatio);
        return new DataBlock(data, handlers.Tokenizer, handlers.SeqLength, handlers.SeqLengthAt ?? loader.Position);
    }

    static IReadOnlyDictionary<string, string> Columns(SectionReader loader, string format, BindContext ctx)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (DefaultColumns.TryGetValue(format, out var defaults))
            foreach (var (k, v) in defaults) result[k] = v;
        if (loader.Section("columns") is not { } columns) return result;
        var known = format == "auto"
            ? DefaultColumns.Values.SelectMany(d => d.Keys).Distinct().ToList()
            : defaults!.Keys.ToList();
        foreach (var key in known)
            if (columns.String(key) is { Length: > 0 } column) result[key] = column;
        columns.Finish();
        return result;
    }

    sealed record HandlerFacts(bool HasInstruct, SectionReader? Tokenizer, int? SeqLength, SourcePosition? SeqLengthAt,
        string? Template, bool? TrainOnPrompt, PackingMode? Packing, bool PackStrategyExplicit);

    static HandlerFacts Handlers(SectionReader loader, BindContext ctx)
    {
        var facts = new HandlerFacts(false, null, null, null, null, null, null, false);
        if (loader.List("handler") is not { } items) return facts;
        var sawPacking = false;
        foreach (var (node, path) in items)
        {
            if (node is not YamlMappingNode map)
            {
                ctx.Issues.Error(path, node.Position, $"expected a handler mapping with a type, got {node.Describe()}.",
                    "write '- type: AlpacaInstructDataHandler' and its settings below it.");
                continue;
            }
            var h = new SectionReader(map, path, ctx.Issues);
            var type = h.Choice("type", [InstructHandler, PackingHandlerType],
                hint: $"supported handlers: {InstructHandler} (prompt template + tokenizer) and {PackingHandlerType}.");
            if (type is null && !h.Has("type"))
                ctx.Issues.Error(h.KeyPath("type"), map.Position, "a handler needs a type.", $"add type: {InstructHandler}.");
            if (type == InstructHandler)
            {
                if (facts.HasInstruct)
                    ctx.Issues.Error(h.KeyPath("type"), h.PositionOf("type"), $"a second {InstructHandler}.", "keep one instruct handler.");
                if (sawPacking)
                    ctx.Issues.Error(h.KeyPath("type"), h.PositionOf("type"), $"{InstructHandler} must come before {PackingHandlerType}.",
                        "list the instruct handler first; packing works on its tokenized output.");
                facts = facts with
                {
                    HasInstruct = true,
                    Tokenizer = h.Section("tokenizer"),
                    SeqLength = h.Int("seq_length", min: 1, hint: "use the model's context length or less, e.g. 2048."),
                    SeqLengthAt = h.PositionOf("seq_length"),
                    Template = h.Choice("template", Templates),
                    TrainOnPrompt = h.Bool("train_on_prompt"),
                };
                h.Ignore("rows are read by data_loader.format/columns.", "prompt_key");
                h.Ignore(Reasons.MsDataset, "output_columns");
                h.Ignore("batches are padded to their longest sample; packing is set by PackingHandler.", "is_dynamic", "padding");
                h.Ignore("the tokenizer comes from the tokenizer block or the model folder.", "tokenizer_name", "pretrained_model_dir", "trust_remote_code");
                if (facts.SeqLength is null && !map.ContainsKey("seq_length"))
                    ctx.Issues.Error(h.KeyPath("seq_length"), map.Position, "the instruct handler needs seq_length.", "add seq_length: 2048 (or the length you train at).");
            }
            else if (type == PackingHandlerType)
            {
                sawPacking = true;
                var seq = h.Int("seq_length", min: 1);
                var strategy = h.Choice("pack_strategy", ["pack", "truncate"]);
                if (seq is not null && facts.SeqLength is not null && seq != facts.SeqLength)
                    ctx.Issues.Error(h.KeyPath("seq_length"), h.PositionOf("seq_length"),
                        $"PackingHandler seq_length {seq} differs from the instruct handler's {facts.SeqLength}.",
                        "use the same seq_length (an anchor such as &seq_length keeps them equal).");
                facts = facts with
                {
                    Packing = strategy == "truncate" ? PackingMode.Truncate : PackingMode.Pack,
                    PackStrategyExplicit = strategy is not null,
                    SeqLength = facts.SeqLength ?? seq,
                    SeqLengthAt = facts.SeqLengthAt ?? h.PositionOf("seq_length"),
                };
                h.Ignore(Reasons.MsDataset, "output_columns");
                h.Ignore("padding uses the tokenizer's pad token and -100 labels.", "pad_token", "ignore_token");
            }
            h.Finish();
        }
        return facts;
    }

    static (string Path, DatasetSourceKind Kind, string Resolved, IReadOnlyList<string> Files)? Source(SectionReader loader, BindContext ctx)
    {
        var path = loader.String("path");
        var files = loader.StringList("data_files", allowSingle: true) ?? [];
        var keyPath = loader.KeyPath("path");
        var at = loader.PositionOf("path");
        if (string.IsNullOrWhiteSpace(path))
        {
            ctx.Issues.Error(keyPath, at, "no dataset: path is missing or empty.",
                "set path to a json/jsonl/parquet/csv file, a folder, a Hugging Face dataset id (owner/name) or builtin:NAME.");
            return null;
        }

        if (BindContext.IsBuiltin(path, out var builtin))
        {
            var resolver = ctx.Options.Builtins;
            if (resolver is null)
            {
                ctx.Issues.Warning(keyPath, at, $"'{path}' is resolved by the server; it was not checked here.");
                return (path, DatasetSourceKind.Builtin, "", files);
            }
            var resolved = resolver.ResolveDataset(builtin);
            if (resolved is null)
            {
                ctx.Issues.Error(keyPath, at, $"there is no built-in dataset '{builtin}'.",
                    $"use one of: {string.Join(", ", resolver.DatasetNames.Select(n => BindContext.BuiltinPrefix + n))}.");
                return null;
            }
            if (ctx.CheckFiles) PathChecks.FileExists(resolved, keyPath, at, ctx.Issues, "built-in dataset file");
            return (path, DatasetSourceKind.Builtin, resolved, files);
        }

        var filesKey = loader.KeyPath("data_files");
        var filesAt = loader.PositionOf("data_files");
        if (Builders.Contains(path))
        {
            if (files.Count == 0)
            {
                ctx.Issues.Error(filesKey, loader.Position, $"path: {path} reads data_files, and there are none.",
                    "add data_files: /path/to/train." + (path == "text" ? "txt" : path) + ".");
                return null;
            }
            var full = files.Select(ctx.FullPath).ToList();
            if (ctx.CheckFiles)
                foreach (var f in full) PathChecks.FileExists(f, filesKey, filesAt, ctx.Issues, "data file");
            return (path, DatasetSourceKind.LocalFile, full[0], full);
        }

        var local = ctx.FullPath(path);
        if (ctx.CheckFiles && File.Exists(local)) return (path, DatasetSourceKind.LocalFile, local, files.Select(ctx.FullPath).ToList());
        if (ctx.CheckFiles && Directory.Exists(local))
        {
            var inFolder = files.Select(f => Path.GetFullPath(Path.Combine(local, f))).ToList();
            foreach (var f in inFolder) PathChecks.FileExists(f, filesKey, filesAt, ctx.Issues, "data file");
            return (path, DatasetSourceKind.LocalFolder, local, inFolder);
        }

        var looksLocal = DataExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase))
                         || path.StartsWith('/') || path.StartsWith("./", StringComparison.Ordinal)
                         || path.StartsWith("../", StringComparison.Ordinal) || path.StartsWith('~') || path.Contains('\\');
        if (!looksLocal && HubId().IsMatch(path)) return (path, DatasetSourceKind.HubId, path, files);
        if (!ctx.CheckFiles)
            return (path, path.EndsWith('/') ? DatasetSourceKind.LocalFolder : DatasetSourceKind.LocalFile, local, files.Select(ctx.FullPath).ToList());
        ctx.Issues.Error(keyPath, at, looksLocal
                ? $"dataset file '{local}' does not exist."
                : $"'{path}' is neither an existing file or folder nor a Hugging Face dataset id (owner/name).",
            "fix the path (relative paths are relative to the config file), or use an id such as llm-wizard/alpaca-gpt4-data.");
        return null;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    private static partial Regex HubId();
}
