using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>The data_loader's handler list: MindFormers' AlpacaInstructDataHandler (template, tokenizer, seq_length) and PackingHandler.</summary>
public static partial class DataBinder
{
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
}
