using Sft.Training.Checkpoints;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Models;

public class RecomputeTests
{
    [Fact]
    public void Recomputed_layers_give_the_same_loss_and_gradients()
    {
        var fixture = TestAssets.Reference("llama", "model");
        var request = ScoreRequest.Load(TestAssets.Reference("llama", "request.json"));
        Dictionary<string, Tensor> Run(bool recompute)
        {
            using var model = HfModelFolder.Load(fixture);
            model.model.RecomputeLayers = recompute ? model.model.layers.Count : 0;
            using var scope = NewDisposeScope();
            var labels = tensor(request.Labels.SelectMany(r => r).ToArray()).view(request.Labels.Length, -1);
            var hidden = model.ForwardHidden(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
            var loss = CausalLmLoss.Compute(model, hidden, labels);
            (loss.Sum / loss.Count).backward();
            var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
            grads["loss"] = loss.Sum.detach().clone().DetachFromDisposeScope();
            return grads;
        }
        var plain = Run(false);
        var recomputed = Run(true);
        Assert.Equal(plain.Keys.Order(), recomputed.Keys.Order());
        foreach (var (name, g) in plain)
            Assert.True((g - recomputed[name]).abs().max().item<float>() < 1e-6, name);
    }

    [Fact]
    public void Recomputed_bf16_layers_give_the_same_gradients()
    {
        // bf16 on this CPU runs the widened autograd functions, which hand their gradients over themselves
        // (GradientHandoff), also from inside the recompute's own backward.
        var fixture = TestAssets.Reference("llama", "model");
        var request = ScoreRequest.Load(TestAssets.Reference("llama", "request.json"));
        Dictionary<string, Tensor> Run(bool recompute)
        {
            using var model = HfModelFolder.Load(fixture, new ModelLoadOptions { Dtype = ScalarType.BFloat16 });
            model.model.RecomputeLayers = recompute ? model.model.layers.Count : 0;
            using var scope = NewDisposeScope();
            var labels = tensor(request.Labels.SelectMany(r => r).ToArray()).view(request.Labels.Length, -1);
            var loss = CausalLmLoss.Compute(model, model.ForwardHidden(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU)), labels);
            (loss.Sum / loss.Count).backward();
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.to(ScalarType.Float32).DetachFromDisposeScope());
        }
        var plain = Run(false);
        var recomputed = Run(true);
        Assert.Equal(plain.Keys.Order(), recomputed.Keys.Order());
        foreach (var (name, g) in plain)
        {
            Assert.True(g.abs().max().item<float>() > 0, $"{name}: no gradient");
            Assert.True(g.equal(recomputed[name]).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Recompute_gives_adapters_their_gradients_when_the_base_is_frozen()
    {
        var folder = TestAssets.Reference("qwen2_untied", "model");
        var request = ScoreRequest.Load(TestAssets.Reference("qwen2_untied", "request.json"));
        float[] Run(bool recompute)
        {
            using var model = HfModelFolder.Load(folder);
            var adapters = Sft.Training.Lora.LoraInjector.Inject(model, Sft.Training.Lora.PeftAdapter.ReadSettings(TestAssets.Reference("qwen2_untied", "lora_init")));
            Sft.Training.Lora.PeftAdapter.LoadWeights(TestAssets.Reference("qwen2_untied", "lora_init"), adapters);
            model.model.RecomputeLayers = recompute ? 2 : 0;
            using var scope = NewDisposeScope();
            var labels = tensor(request.Labels.SelectMany(r => r).ToArray()).view(request.Labels.Length, -1);
            var loss = CausalLmLoss.Compute(model, model.ForwardHidden(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU)), labels);
            (loss.Sum / loss.Count).backward();
            return adapters.SelectMany(a => new[] { a.Layer.LoraA.grad!, a.Layer.LoraB.grad! }).SelectMany(g => g.data<float>().ToArray()).ToArray();
        }
        var plain = Run(false);
        var recomputed = Run(true);
        Assert.Equal(plain.Length, recomputed.Length);
        Assert.Contains(plain, v => v != 0);
        for (var i = 0; i < plain.Length; i++) Assert.True(Math.Abs(plain[i] - recomputed[i]) < 1e-6);
    }
}
