using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary><c>model.model_config.pet_config</c>: MindFormers' LoRA settings plus PEFT's <c>use_rslora</c> and our <c>adapter_path</c>.</summary>
public static class LoraBinder
{
    public static LoraSection? Bind(SectionReader pet, BindContext ctx)
    {
        var type = pet.Choice("pet_type", ["lora", "ptuning2", "prefix_tuning", "adapter", "slora", "p_tuning", "prompt_tuning"]);
        if (type is not null and not "lora")
            ctx.Issues.Error(pet.KeyPath("pet_type"), pet.PositionOf("pet_type"), $"pet_type '{type}' is not supported.",
                "use pet_type: lora, or remove pet_config for full fine-tuning.");
        if (type is null && !pet.Map.ContainsKey("pet_type"))
            ctx.Issues.Error(pet.KeyPath("pet_type"), pet.Position, "pet_config needs pet_type.", "add pet_type: lora.");

        var rank = pet.Int("lora_rank", 8, min: 1, hint: "use a rank ≥ 1 such as 8 or 16.");
        var alpha = pet.Double("lora_alpha", 16, min: 0, minExclusive: true);
        var dropout = pet.Double("lora_dropout", 0.01, min: 0, max: 1, maxExclusive: true);
        var targets = Targets(pet, "target_modules", ctx) ?? TargetModules.Default;
        var exclude = Targets(pet, "exclude_layers", ctx);
        var rslora = pet.Bool("use_rslora", false);
        string? adapter = null;
        if (pet.String("adapter_path") is { Length: > 0 } a)
        {
            adapter = ctx.FullPath(a);
            if (ctx.CheckFiles) PathChecks.AdapterFolder(adapter, pet.KeyPath("adapter_path"), pet.PositionOf("adapter_path"), ctx.Issues);
        }
        pet.Ignore("PEFT's initialisation is used (A Kaiming-uniform, B zeros).", "lora_a_init", "lora_b_init");
        pet.Ignore("adapters use the model's compute_dtype and param_init_type.", "param_init_type", "compute_dtype");
        foreach (var key in new[] { "freeze_include", "freeze_exclude" })
        {
            pet.Accept(key);
            if (pet.Map.KeyNode(key) is { } k && !NodeValues.IsNull(pet.Map[key]) && pet.Map[key] is not YamlSequenceNode { Items.Count: 0 })
                ctx.Issues.Warning(pet.KeyPath(key), k.Position, "not supported: with LoRA every base weight is frozen and only the adapters train.",
                    $"remove {key}.");
            else if (pet.Map.KeyNode(key) is { } empty)
                ctx.Issues.Ignored(pet.KeyPath(key), empty.Position, "with LoRA every base weight is frozen and only the adapters train.");
        }
        pet.Finish();
        return type == "lora" ? new LoraSection(rank, alpha, dropout, targets, exclude, rslora, adapter) : null;
    }

    /// <summary>A regex string or a list of names (MindFormers names mapped to Hugging Face ones).</summary>
    static TargetModules? Targets(SectionReader pet, string key, BindContext ctx)
    {
        if (pet.Node(key) is not { } node) return null;
        var path = pet.KeyPath(key);
        if (node is YamlScalarNode s)
        {
            try { return TargetModules.FromPattern(s.Value); }
            catch (ArgumentException e)
            {
                ctx.Issues.Error(path, node.Position, $"'{s.Value}' is not a valid regular expression ({e.Message}).",
                    "write a regex such as '.*wq|.*wk|.*wv|.*wo', or a list such as [q_proj, v_proj].");
                return null;
            }
        }
        if (pet.StringList(key) is { Count: > 0 } names) return TargetModules.FromList(names);
        if (node is YamlSequenceNode { Items.Count: 0 })
            ctx.Issues.Error(path, node.Position, "the list is empty.", "name at least one module, e.g. [q_proj, v_proj].");
        return null;
    }
}
