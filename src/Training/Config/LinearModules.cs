using Sft.Training.Models;

namespace Sft.Training.Config;

/// <summary>A linear layer by its Hugging Face module name (<c>model.layers.0.self_attn.q_proj</c>) with its features.</summary>
public sealed record LinearModule(string Name, long InFeatures, long OutFeatures);

/// <summary>The linear layers of a Qwen2/Llama decoder in Hugging Face names, for checking LoRA targets and sizing adapters.</summary>
public static class LinearModules
{
    /// <summary>Every attention and MLP projection, layer by layer, then <c>lm_head</c>.</summary>
    public static IEnumerable<LinearModule> Of(ModelConfig c)
    {
        var q = c.NumAttentionHeads * c.HeadDim;
        var kv = c.NumKeyValueHeads * c.HeadDim;
        for (var i = 0; i < c.NumHiddenLayers; i++)
        {
            var p = $"model.layers.{i}.";
            yield return new(p + "self_attn.q_proj", c.HiddenSize, q);
            yield return new(p + "self_attn.k_proj", c.HiddenSize, kv);
            yield return new(p + "self_attn.v_proj", c.HiddenSize, kv);
            yield return new(p + "self_attn.o_proj", q, c.HiddenSize);
            yield return new(p + "mlp.gate_proj", c.HiddenSize, c.IntermediateSize);
            yield return new(p + "mlp.up_proj", c.HiddenSize, c.IntermediateSize);
            yield return new(p + "mlp.down_proj", c.IntermediateSize, c.HiddenSize);
        }
        yield return new("lm_head", c.HiddenSize, c.VocabSize);
    }

    /// <summary>The projections LoRA may adapt (the engine puts adapters on attention and MLP projections only).</summary>
    public static IEnumerable<LinearModule> Adaptable(ModelConfig c) => Of(c).Where(m => m.Name != "lm_head");
}
