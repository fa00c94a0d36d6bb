using Sft.Training.Config.Yaml;
using Sft.Training.Lora;

namespace Sft.Training.Config.Binding;

/// <summary>
/// <c>model.model_config.pet_config</c>: MindFormers' LoRA settings (targets as a regex or a list, MindFormers
/// names mapped by <see cref="LoraTargets"/>) plus PEFT's <c>use_rslora</c> and our <c>adapter_path</c>.
/// </summary>
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

        var rank = pet.Int("lora_rank", min: 1, hint: "use a rank ≥ 1 such as 8 or 16.");
        var alpha = pet.Double("lora_alpha", min: 0, minExclusive: true);
        var dropout = pet.Double("lora_dropout", min: 0, max: 1, maxExclusive: true);
        var targets = Targets(pet, ctx);
        var rslora = pet.Bool("use_rslora");
        if (pet.Has("exclude_layers"))
            ctx.Issues.Error(pet.KeyPath("exclude_layers"), pet.PositionOf("exclude_layers"), "exclude_layers is not supported.",
                "express the exclusion in the target_modules regex, e.g. 'model\\.layers\\.([0-9]|1[0-3])\\..*(wq|wv)'.");
        pet.Ignore("PEFT's initialisation is used (A Kaiming-uniform, B zeros).", "lora_a_init", "lora_b_init");
        pet.Ignore("adapters use the model's compute_dtype; the optimizer keeps float32 state.", "param_init_type", "compute_dtype");
        foreach (var key in new[] { "freeze_include", "freeze_exclude" })
        {
            pet.Accept(key);
            if (pet.Map.KeyNode(key) is not { } k) continue;
            if (pet.Map[key] is YamlSequenceNode { Items.Count: > 0 } or YamlScalarNode { IsNull: false })
                ctx.Issues.Error(pet.KeyPath(key), k.Position, "not supported: with LoRA every base weight is frozen and only the adapters train.",
                    $"remove {key} (for full fine-tuning of everything, remove pet_config).");
            else
                ctx.Issues.Ignored(pet.KeyPath(key), k.Position, "with LoRA every base weight is frozen and only the adapters train.");
        }

        string? adapterPath = null;
        LoraSettings? adapter = null;
        if (pet.String("adapter_path") is { Length: > 0 } a)
        {
            adapterPath = ctx.FullPath(a);
            if (ctx.CheckFiles)
                adapter = PathChecks.AdapterFolder(adapterPath, pet.KeyPath("adapter_path"), pet.PositionOf("adapter_path"), ctx.Issues);
        }
        pet.Finish();
        if (type != "lora") return null;

        if (adapter is not null)
        {
            // Continuing an adapter: its shape is fixed; pet_config may only repeat it (dropout may change).
            void Same<T>(string key, T? mine, T theirs) where T : struct
            {
                if (mine is { } m && !m.Equals(theirs))
                    ctx.Issues.Error(pet.KeyPath(key), pet.PositionOf(key), $"{m} differs from the adapter's {theirs} ({adapterPath}).",
                        $"set {key}: {theirs} or remove it; a continued adapter keeps its shape.");
            }
            Same("lora_rank", rank, adapter.Rank);
            Same("lora_alpha", alpha, adapter.Alpha);
            Same("use_rslora", rslora, adapter.UseRsLora);
            if (targets is not null && targets.Describe() != adapter.Targets.Describe())
                ctx.Issues.Error(pet.KeyPath("target_modules"), pet.PositionOf("target_modules"),
                    $"'{targets.Describe()}' differs from the adapter's '{adapter.Targets.Describe()}'.", "remove target_modules to use the adapter's.");
            return new LoraSection(adapter with { Dropout = dropout ?? adapter.Dropout }, adapterPath);
        }
        // MindFormers' LoraConfig defaults: r 8, alpha 16, dropout 0.01; targets default to PEFT's q_proj/v_proj.
        return new LoraSection(new LoraSettings(rank ?? 8, alpha ?? 16, dropout ?? 0.01, targets ?? new LoraTargets(["q_proj", "v_proj"]), rslora ?? false), adapterPath);
    }

    /// <summary>A regex string or a list of names.</summary>
    static LoraTargets? Targets(SectionReader pet, BindContext ctx)
    {
        const string key = "target_modules";
        if (pet.Node(key) is not { } node) return null;
        var path = pet.KeyPath(key);
        if (node is YamlScalarNode s)
        {
            try { return new LoraTargets(s.Value); }
            catch (ArgumentException e)
            {
                ctx.Issues.Error(path, node.Position, e.Message,
                    "write a regex such as '.*wq|.*wk|.*wv|.*wo', or a list such as [q_proj, v_proj].");
                return null;
            }
        }
        if (pet.StringList(key) is { Count: > 0 } names) return new LoraTargets(names);
        if (node is YamlSequenceNode { Items.Count: 0 })
            ctx.Issues.Error(path, node.Position, "the list is empty.", "name at least one module, e.g. [q_proj, v_proj].");
        return null;
    }
}
