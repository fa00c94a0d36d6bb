using Sft.Training.Engine;
using Sft.Training.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Models;

/// <summary>
/// The embedding's and the LM head's gradients are kept between steps (SpareGradients) when they are large
/// (here a 16,384 × 512 fp32 matrix: 32 MiB, the threshold); the next step overwrites them, so its gradients
/// are exactly those a fresh buffer would get.
/// </summary>
public class SpareGradientsTests
{
    static CausalLM Model(bool tied)
    {
        var config = ModelConfig.Parse($$"""
            {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 512, "intermediate_size": 64,
             "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 16384,
             "tie_word_embeddings": {{(tied ? "true" : "false")}}, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
             "max_position_embeddings": 64}
            """);
        var model = new CausalLM(config, CPU, ScalarType.Float32);
        ModelInit.Initialize(model, seed: 3);
        model.train();
        return model;
    }

    static Tensor Ids() => randint(0, 16384, [2, 12], ScalarType.Int64, generator: new Generator(11));

    static void Backward(CausalLM model, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var loss = CausalLmLoss.Compute(model, model.ForwardHidden(ids), ids);
        (loss.Sum / loss.Count).backward();
    }

    static Dictionary<string, Tensor> Gradients(CausalLM model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // tied: the embedding's rows are added into the head's gradient
    public void A_second_step_reuses_the_large_gradient_buffers_and_gets_the_same_gradients(bool tied)
    {
        using var model = Model(tied);
        using var optimizer = new AdamWOptimizer(model.named_parameters().Select(p => (p.name, p.parameter)), new AdamWOptions());
        using var ids = Ids();
        var large = model.named_parameters().Where(p => p.parameter.NumberOfElements * 4 >= SpareGradients.MinBytes).ToArray();
        Assert.Equal(tied ? 1 : 2, large.Length);

        Backward(model, ids);
        var first = Gradients(model);
        var firstBuffers = large.ToDictionary(p => p.name, p => p.parameter.grad!);   // aliases of the step's gradient storage
        optimizer.ZeroGrad();
        Assert.All(large, p => Assert.True(SpareGradients.Holds(p.parameter), p.name));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));

        Backward(model, ids);   // same weights, same batch: the kept buffers hold the last step's values and are overwritten
        foreach (var (name, grad) in Gradients(model))
            Assert.True(grad.equal(first[name]).all().item<bool>(), name);   // bit for bit
        foreach (var (name, parameter) in large)
        {
            Assert.False(SpareGradients.Holds(parameter));
            firstBuffers[name].fill_(42f);   // the same storage: the gradient reads 42 now
            using var grad = parameter.grad!;
            Assert.Equal(42f, grad[0, 0].item<float>());
            firstBuffers[name].Dispose();
        }

        optimizer.ZeroGrad();
        optimizer.Dispose();    // frees the spares with the optimizer
        Assert.All(large, p => Assert.False(SpareGradients.Holds(p.parameter), p.name));
    }

    [Fact]
    public void The_lookup_gradient_is_index_selects_with_none_for_the_padding_row()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(4);
        var weight = new Parameter(randn(50, 8, generator: generator));
        var ids = tensor(new long[] { 3, 7, 3, 0, 7, 9 });
        var upstream = randn(6, 8, generator: generator);
        (EmbeddingLookup.Apply(weight, ids, paddingIdx: 7) * upstream).sum().backward();

        var plain = new Parameter(weight.detach().clone());
        (plain.index_select(0, ids) * upstream).sum().backward();
        var expected = plain.grad!.clone();
        expected[7] = zeros(8);
        Assert.True(weight.grad!.equal(expected).all().item<bool>());
        Assert.NotEqual(0, weight.grad![3].abs().sum().item<float>());
    }
}
