using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Hub;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
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
public static class DataBinder
{
    public static readonly IReadOnlyList<string> Templates = ["alpaca", "chatml"];

    /// <summary>Hugging Face builder names that read <c>data_files</c> (MindFormers: <c>path: json</c>).</summary>
    static readonly IReadOnlyList<string> Builders = ["json", "csv", "parquet", "text", "arrow"];

    static readonly IReadOnlyList<string> DataExtensions = [".json", ".jsonl", ".parquet", ".csv", ".tsv", ".txt", ".arrow"];

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

        var split = Split(loader, ctx);
        var revision = loader.String("revision");
        if (loader.Has("name"))
            ctx.Issues.Error(loader.KeyPath("name"), loader.PositionOf("name"), "dataset configurations (load_dataset's name) are not supported.",
                "point data_files at the files of that configuration instead.");
        var field = loader.String("field");
        var shuffle = loader.Bool("shuffle", false);
        var packingKey = loader.Choice("packing", ["pack", "truncate"]);
        var formatKey = loader.Node("format") is { } fNode ? Format(fNode, loader.KeyPath("format"), ctx) : null;
        var columns = Columns(loader, ctx);
        var validationRatio = loader.Double("validation_ratio", 0, min: 0, max: 1, maxExclusive: true,
            hint: "hold out a fraction such as 0.05 (0 = none).");
        if (isEval && validationRatio > 0)
            ctx.Issues.Error(loader.KeyPath("validation_ratio"), loader.PositionOf("validation_ratio"),
                "validation_ratio belongs to train_dataset (it holds rows of the training data out).", "move it to train_dataset.data_loader.");

        var handlers = Handlers(loader, ctx);
        // MindFormers' AlpacaInstructDataHandler reads Alpaca rows; without it the rows' shape is detected.
        var format = formatKey ?? (handlers.HasInstruct ? DatasetFormat.Alpaca : inheritFrom?.Data?.Spec.Format ?? DatasetFormat.Auto);
        var source = Source(loader, split, ctx);
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

        var spec = new DatasetSpec
        {
            Path = source.Value.Path, DataFiles = source.Value.Files, Split = split, Revision = revision,
            Format = format, Columns = columns, Field = field,
        };
        var data = new DatasetSection(spec, source.Value.Origin, shuffle, dropRemainder, template, trainOnPrompt, seqLength ?? 0, packing, validationRatio);
        return new DataBlock(data, handlers.Tokenizer, handlers.SeqLength, handlers.SeqLengthAt ?? loader.Position);
    }

    /// <summary>data_loader.format through the data layer's names (auto, alpaca, sharegpt, messages, pretokenized, ...).</summary>
    static DatasetFormat? Format(YamlNode node, string path, BindContext ctx)
    {
        if (!NodeValues.TryString(node, path, ctx.Issues, out var text)) return null;
        try { return DatasetFormats.Parse(text); }
        catch (DatasetException e)
        {
            ctx.Issues.Error(path, node.Position, e.Message, "use auto to detect the format from the first row.");
            return null;
        }
    }

    /// <summary>data_loader.columns: logical part → dataset column, validated by the data layer's <see cref="ColumnMapping"/>.</summary>
    static ColumnMapping Columns(SectionReader loader, BindContext ctx)
    {
        if (loader.Section("columns") is not { } columns) return ColumnMapping.Default;
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in columns.Map.Entries)
        {
            columns.Accept(key.Value);
            if (NodeValues.TryString(value, columns.KeyPath(key.Value), ctx.Issues, out var column)) entries[key.Value] = column;
        }
        try { return ColumnMapping.Parse(entries); }
        catch (DatasetException e)
        {
            ctx.Issues.Error(columns.Path, columns.Position, e.Message, "map parts to your column names, e.g. {instruction: prompt, output: response}.");
            return ColumnMapping.Default;
        }
    }

    /// <summary>The split with an optional slice (<c>train[:90%]</c>).</summary>
    static string Split(SectionReader loader, BindContext ctx)
    {
        var split = loader.String("split") ?? "train";
        try { SplitSlice.Parse(split); }
        catch (Exception e) when (e is DatasetException or FormatException or ArgumentException)
        {
            ctx.Issues.Error(loader.KeyPath("split"), loader.PositionOf("split"), e.Message, "write a split name with an optional slice, e.g. train or train[:90%].");
            return "train";
        }
        return split;
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

    /// <summary>
    /// Where the rows come from, as the data layer will open them: a local file or folder (absolute), a built-in
    /// dataset (<c>builtin:NAME</c>), or a Hub id. MindFormers' <c>path: json</c> + <c>data_files</c> becomes the file
    /// itself (one file) or their folder with data_files for the split.
    /// </summary>
    static (string Path, DatasetOrigin Origin, IReadOnlyDictionary<string, IReadOnlyList<string>>? Files)? Source(SectionReader loader, string split, BindContext ctx)
    {
        var path = loader.String("path");
        var keyPath = loader.KeyPath("path");
        var at = loader.PositionOf("path");
        var files = DataFiles(loader, split, ctx);
        if (string.IsNullOrWhiteSpace(path))
        {
            ctx.Issues.Error(keyPath, at, "no dataset: path is missing or empty.",
                "set path to a json/jsonl/parquet/csv file, a folder, a Hugging Face dataset id (owner/name) or builtin:NAME.");
            return null;
        }
        path = path.Trim();
        var filesKey = loader.KeyPath("data_files");
        var filesAt = loader.PositionOf("data_files");

        if (BindContext.IsBuiltin(path, out var builtin))
        {
            if (!BuiltinDatasets.TryGet(builtin, out _))
            {
                ctx.Issues.Error(keyPath, at, $"there is no built-in dataset '{builtin}'.",
                    $"use one of: {string.Join(", ", BuiltinDatasets.Names.Select(n => BindContext.BuiltinPrefix + n))}.");
                return null;
            }
            if (files is not null) ctx.Issues.Ignored(filesKey, loader.KeyPosition("data_files"), "a built-in dataset is one file.");
            return (path, DatasetOrigin.Builtin, null);
        }

        if (Builders.Contains(path))
        {
            if (files is null || files.Values.All(f => f.Count == 0))
            {
                ctx.Issues.Error(filesKey, loader.Position, $"path: {path} reads data_files, and there are none.",
                    "add data_files: /path/to/train." + (path == "text" ? "txt" : path) + ".");
                return null;
            }
            var full = files.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.Select(ctx.FullPath).ToList());
            if (ctx.CheckFiles)
                foreach (var f in full.Values.SelectMany(f => f)) PathChecks.FileExists(f, filesKey, filesAt, ctx.Issues, "data file");
            var all = full.Values.SelectMany(f => f).ToList();
            if (all.Count == 1 && full.Count == 1) return (all[0], DatasetOrigin.LocalFile, null);
            var folder = CommonFolder(all);
            return (folder, DatasetOrigin.LocalFolder,
                full.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value.Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).ToList()));
        }

        var local = ctx.FullPath(path);
        if (ctx.CheckFiles && File.Exists(local))
        {
            if (files is not null)
                ctx.Issues.Error(filesKey, filesAt, $"data_files needs path to be a folder or a Hub dataset, but '{local}' is a file.",
                    "point path at the file's folder, or remove data_files.");
            return (local, DatasetOrigin.LocalFile, null);
        }
        if (ctx.CheckFiles && Directory.Exists(local)) return (local, DatasetOrigin.LocalFolder, files);

        var looksLocal = DataExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase) || path.EndsWith(e + ".gz", StringComparison.OrdinalIgnoreCase))
                         || path.StartsWith('/') || path.StartsWith("./", StringComparison.Ordinal)
                         || path.StartsWith("../", StringComparison.Ordinal) || path.StartsWith('~') || path.Contains('\\');
        if (!looksLocal && HubIds.IsRepoId(path)) return (path, DatasetOrigin.Hub, files);
        if (!ctx.CheckFiles) return (local, DatasetExtensionLike(path) ? DatasetOrigin.LocalFile : DatasetOrigin.LocalFolder, files);
        ctx.Issues.Error(keyPath, at, looksLocal
                ? $"dataset file '{local}' does not exist."
                : $"'{path}' is neither an existing file or folder nor a Hugging Face dataset id (owner/name).",
            "fix the path (relative paths are relative to the config file), or use an id such as llm-wizard/alpaca-gpt4-data.");
        return null;
    }

    static bool DatasetExtensionLike(string path) => DataExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase) || path.EndsWith(e + ".gz", StringComparison.OrdinalIgnoreCase));

    /// <summary>data_files as a string, a list (files of <paramref name="split"/>) or a mapping split → file(s).</summary>
    static Dictionary<string, IReadOnlyList<string>>? DataFiles(SectionReader loader, string split, BindContext ctx)
    {
        var node = loader.Node("data_files");
        if (node is null) return null;
        var splitName = split.Split('[')[0];
        if (node is YamlMappingNode map)
        {
            var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            var reader = new SectionReader(map, loader.KeyPath("data_files"), ctx.Issues, loader.KeyPosition("data_files"));
            foreach (var (key, _) in map.Entries)
                if (reader.StringList(key.Value, allowSingle: true) is { } list) result[key.Value] = list;
            return result;
        }
        return loader.StringList("data_files", allowSingle: true) is { } files
            ? new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [splitName] = files }
            : null;
    }

    static string CommonFolder(IReadOnlyList<string> files)
    {
        var folder = Path.GetDirectoryName(files[0])!;
        while (!files.All(f => f.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            folder = Path.GetDirectoryName(folder)!;
        return folder;
    }
}
