using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// Random initialisation as HF <c>_init_weights</c> does it for Qwen2/Llama: linear and embedding
/// weights ~ N(0, initializer_range), biases 0, norm weights 1, the padding row of the embedding 0.
/// Deterministic for a seed, whatever the device.
/// </summary>
public static class ModelInit
{
    public static void Initialize(CausalLM model, long seed)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed, CPU);
        var std = model.Config.InitializerRange;
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) parameter.fill_(1.0);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) parameter.zero_();
            else
            {
                // Sample on the CPU so the same seed gives the same weights on any device. Disposed per parameter:
                // kept to the end of the scope, the samples would be a second fp32 copy of the whole model.
                using var values = empty(parameter.shape, ScalarType.Float32).normal_(0, std, generator);
                parameter.copy_(values);
            }
        }
        if (model.Config.PadTokenId is { } pad) model.model.embed_tokens.weight[pad].zero_();
    }
}
