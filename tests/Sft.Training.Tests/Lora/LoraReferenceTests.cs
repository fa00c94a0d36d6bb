using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Lora;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Lora;

/// <summary>The model with the reference <c>lora_init</c> adapters against PEFT's forward loss and gradients.</summary>
public class LoraReferenceTests
{
    public static TheoryData<string> Fixtures => new() { "qwen2_tied", "qwen2_untied", "llama" };

    static (CausalLM Model, IReadOnlyList<(string Module, LoraLinear Layer)> Adapters) Load(string fixture)
    {
        var model = HfModelFolder.Load(TestAssets.Reference(fixture, "model"));
        var settings = PeftAdapter.ReadSettings(TestAssets.Reference(fixture, "lora_init"));
        var adapters = LoraInjector.Inject(model, settings);
        PeftAdapter.LoadWeights(TestAssets.Reference(fixture, "lora_init"), adapters);
        return (model, adapters);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Forward_loss_and_adapter_gradients_match_peft(string fixture)
    {
        var (model, adapters) = Load(fixture);
        using var _ = model;
        using var scope = NewDisposeScope();
        var request = ScoreRequest.Load(TestAssets.Reference(fixture, "request.json"));
        var labels = tensor(request.Labels.SelectMany(r => r).ToArray()).view(request.Labels.Length, -1);
        var hidden = model.ForwardHidden(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
        var loss = CausalLmLoss.Compute(model, hidden, labels);
        var mean = loss.Sum / loss.Count;

        var expected = JsonDocument.Parse(File.ReadAllText(TestAssets.Reference(fixture, "forward_lora.json"))).RootElement;
        Assert.Equal(expected.GetProperty("num_loss_tokens").GetInt64(), loss.Count);
        Assert.True(Math.Abs(expected.GetProperty("loss").GetDouble() - mean.item<float>()) < 1e-5);

        mean.backward();
        using var grads = SafeTensorsFile.Open(TestAssets.Reference(fixture, "lora_grads_step1.safetensors"));
        Assert.Equal(grads.Tensors.Count, adapters.Count * 2);
        foreach (var (module, layer) in adapters)
        {
            foreach (var (key, parameter) in new[] { (PeftAdapter.KeyA(module), layer.LoraA), (PeftAdapter.KeyB(module), layer.LoraB) })
            {
                var reference = grads.Read(key);
                var error = (parameter.grad! - reference).abs();
                var tolerance = reference.abs() * 1e-3 + 1e-5;
                Assert.True((error <= tolerance).all().item<bool>(), $"{fixture} {key}: max error {error.max().item<float>()}");
            }
        }
        // Only adapters train: the base weights got no gradient.
        Assert.All(model.named_parameters().Where(p => !p.name.Contains("lora_")), p => Assert.Null(p.parameter.grad));
        Assert.Equal(adapters.Count * 2, model.parameters().Count(p => p.requires_grad));
    }

    [Fact]
    public void Merging_gives_the_reference_merged_model()
    {
        var (model, adapters) = Load("qwen2_untied");
        using var _ = model;
        foreach (var (_, layer) in adapters) layer.Merge();
        using var merged = WeightSource.Open(TestAssets.Reference("qwen2_untied", "lora_merged_init"));
        using var scope = NewDisposeScope();
        foreach (var (name, parameter) in model.named_parameters().Where(p => !p.name.Contains("lora_")))
            Assert.True((parameter - merged.Read(name)).abs().max().item<float>() < 1e-6, name);
    }

    [Fact]
    public void Targets_that_match_nothing_are_an_error_that_shows_the_names()
    {
        using var model = HfModelFolder.Load(TestAssets.Reference("qwen2_tied", "model"));
        var settings = new LoraSettings(4, 8, 0, new LoraTargets(["query_key_value"]), false);
        var error = Assert.Throws<ArgumentException>(() => LoraInjector.Inject(model, settings));
        Assert.Contains("query_key_value", error.Message);
        Assert.Contains("model.layers.0.self_attn.q_proj", error.Message);
    }
}
