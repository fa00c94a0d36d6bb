using Sft.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Models;

/// <summary>
/// Real configs built on the meta device (no memory for weights): the state_dict key/shape list must
/// equal the approved list of the HF checkpoint, so key drift is caught without downloading weights.
/// </summary>
public class ModelShapeTests
{
    [Theory]
    [InlineData("qwen2.5-0.5b", 494_032_768L)]
    [InlineData("qwen2.5-7b", 7_615_616_512L)]
    [InlineData("llama-3.2-1b", 1_235_814_400L)]
    public void Meta_model_has_exactly_the_hf_keys_and_shapes(string name, long parameters)
    {
        var config = ModelConfig.Load(Path.Combine(TestAssets.Root, "configs", name + ".config.json"));
        using var model = new CausalLM(config, new Device("meta"), ScalarType.BFloat16);

        var actual = model.state_dict()
            .Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}]")
            .Order(StringComparer.Ordinal).ToArray();
        var approved = File.ReadAllLines(Path.Combine(TestAssets.Root, "configs", name + ".keys.txt"));
        Assert.Equal(approved, actual);

        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        Assert.Equal(parameters, model.parameters().Sum(p => p.numel()));
        Assert.Equal(parameters, config.ParameterCount());
    }

    [Fact]
    public void Tied_embeddings_are_one_parameter()
    {
        var config = ModelConfig.Load(Path.Combine(TestAssets.Root, "configs", "qwen2.5-0.5b.config.json"));
        using var model = new CausalLM(config, new Device("meta"));
        Assert.Null(model.lm_head);
        Assert.DoesNotContain("lm_head.weight", model.state_dict().Keys);
        Assert.Single(model.parameters(), p => p.shape.SequenceEqual([151936L, 896L]));
    }

    [Fact]
    public void Rope_buffers_stay_out_of_the_state_dict()
    {
        var config = ModelConfig.Load(Path.Combine(TestAssets.Root, "configs", "llama-3.2-1b.config.json"));
        using var model = new CausalLM(config, new Device("meta"));
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("inv_freq") || k.Contains("rotary"));
    }
}
