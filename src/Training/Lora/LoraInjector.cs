using Sft.Training.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Lora;

/// <summary>
/// Puts adapters into a causal LM: every attention/MLP projection whose HF module name matches the
/// targets is replaced by a <see cref="LoraLinear"/> sharing its weight, and every base parameter is
/// frozen, so only <c>lora_A</c>/<c>lora_B</c> train (and get optimizer state).
/// </summary>
public static class LoraInjector
{
    static readonly string[] AttentionProjections = ["q_proj", "k_proj", "v_proj", "o_proj"];
    static readonly string[] MlpProjections = ["gate_proj", "up_proj", "down_proj"];

    public static IReadOnlyList<(string Module, LoraLinear Layer)> Inject(CausalLM model, LoraSettings settings)
    {
        foreach (var p in model.parameters()) p.requires_grad = false;
        if (settings.Targets.Matches("lm_head") || settings.Targets.Matches("model.embed_tokens"))
            throw new ArgumentException($"target_modules '{settings.Targets.Describe()}' selects the embedding or lm_head; adapters go on the linear projections only " +
                $"({string.Join(", ", AttentionProjections.Concat(MlpProjections))}).");

        var injected = new List<(string, LoraLinear)>();
        for (var i = 0; i < model.model.layers.Count; i++)
        {
            var layer = model.model.layers[i];
            foreach (var name in AttentionProjections)
            {
                var module = $"model.layers.{i}.self_attn.{name}";
                if (!settings.Targets.Matches(module)) continue;
                var lora = Wrap(Projection(layer.self_attn, name), settings, module);
                layer.self_attn.ReplaceProjection(name, lora);
                injected.Add((module, lora));
            }
            foreach (var name in MlpProjections)
            {
                var module = $"model.layers.{i}.mlp.{name}";
                if (!settings.Targets.Matches(module)) continue;
                var lora = Wrap(Projection(layer.mlp, name), settings, module);
                layer.mlp.ReplaceProjection(name, lora);
                injected.Add((module, lora));
            }
        }
        if (injected.Count == 0)
            throw new ArgumentException($"target_modules '{settings.Targets.Describe()}' matches no linear layer. Module names look like " +
                "model.layers.0.self_attn.q_proj and model.layers.0.mlp.down_proj; list short names (q_proj, v_proj) or a regex over full names.");
        return injected;
    }

    /// <summary>The adapters already in a model (after <see cref="Inject"/>), by HF module name.</summary>
    public static IReadOnlyList<(string Module, LoraLinear Layer)> Find(CausalLM model) =>
        model.named_modules().Where(m => m.module is LoraLinear).Select(m => (m.name, (LoraLinear)m.module)).ToList();

    static Linear Projection(nn.Module module, string name) =>
        module.named_children().FirstOrDefault(c => c.name == name).module as Linear
        ?? throw new InvalidOperationException($"{name} is already adapted or is not a linear layer.");

    static LoraLinear Wrap(Linear linear, LoraSettings s, string module) =>
        new(linear.weight ?? throw new InvalidOperationException($"{module} has no weight."), linear.bias, s.Rank, s.Alpha, s.Dropout, s.UseRsLora);
}
