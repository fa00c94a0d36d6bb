using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;
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
public static partial class DataBinder
{
    /// <summary>The prompt templates a handler may name (the engine's registry).</summary>
    public static readonly IReadOnlyList<string> Templates = [.. Tokenization.Templates.PromptTemplates.Names, "qwen2.5"];

    /// <summary>What MindFormers' AlpacaInstructDataHandler renders: its USER:/ASSISTANT: Alpaca prompt.</summary>
    public const string InstructHandlerTemplate = "mindformers_alpaca";

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
        // Without a handler or a template key, the template comes from the tokenizer's chat template (null).
        var template = handlers.Template ?? inheritFrom?.Data?.Template ?? (handlers.HasInstruct ? InstructHandlerTemplate : null);
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
}
