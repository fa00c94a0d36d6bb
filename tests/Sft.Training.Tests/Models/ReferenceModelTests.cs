using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Models;

/// <summary>
/// The model against tests/assets/reference: logits, losses and gradients computed by an independent
/// PyTorch re-derivation of HF Qwen2ForCausalLM / LlamaForCausalLM, for every fixture.
/// </summary>
public class ReferenceModelTests
{
    public static TheoryData<string> Fixtures => new() { "qwen2_tied", "qwen2_untied", "qwen2_untied_sharded", "llama" };
    public static TheoryData<string> TrainedFixtures => new() { "qwen2_tied", "qwen2_untied", "llama" };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Padded_batch_logits_and_loss_match_the_reference(string fixture)
    {
        using var model = HfModelFolder.Load(TestAssets.Reference(fixture, "model"));
        var request = ScoreRequest.Load(TestAssets.Reference(fixture, "request.json"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.forward(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
        using var file = SafeTensorsFile.Open(TestAssets.Reference(fixture, "forward_logits.safetensors"));
        var expected = file.Read("logits");
        Assert.Equal(expected.shape, logits.shape);
        var diff = (logits - expected).abs().max().item<float>();
        Assert.True(diff < 1e-5, $"{fixture}: max |logits - reference| = {diff}");

        CheckScore(fixture, "forward.json", model, request);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Simple_request_matches_the_reference(string fixture)
    {
        using var model = HfModelFolder.Load(TestAssets.Reference(fixture, "model"));
        var request = ScoreRequest.Load(TestAssets.Reference(fixture, "request_simple.json"));
        CheckScore(fixture, "forward_simple.json", model, request);
    }

    static void CheckScore(string fixture, string expectedFile, CausalLM model, ScoreRequest request)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestAssets.Reference(fixture, expectedFile)));
        var root = doc.RootElement;
        var result = Scorer.Score(model, request);
        Assert.Equal(root.GetProperty("num_loss_tokens").GetInt64(), result.NumLossTokens);
        Assert.True(Math.Abs(root.GetProperty("loss").GetDouble() - result.Loss) < 1e-5, $"{fixture}: loss {result.Loss} vs {root.GetProperty("loss").GetDouble()}");

        var rows = root.GetProperty("token_loss").EnumerateArray().ToArray();
        for (var b = 0; b < rows.Length; b++)
        {
            var cells = rows[b].EnumerateArray().ToArray();
            for (var t = 0; t < cells.Length; t++)
            {
                if (cells[t].ValueKind == JsonValueKind.Null) { Assert.Null(result.TokenLoss[b][t]); continue; }
                Assert.NotNull(result.TokenLoss[b][t]);
                Assert.True(Math.Abs(cells[t].GetDouble() - result.TokenLoss[b][t]!.Value) < 1e-5, $"{fixture} token_loss[{b}][{t}]");
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.forward(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
        foreach (var slice in root.GetProperty("logits_slices").EnumerateArray())
        {
            var (b, t, v0) = (slice.GetProperty("b").GetInt64(), slice.GetProperty("t").GetInt64(), slice.GetProperty("v0").GetInt64());
            var values = slice.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var actual = logits[b, t].narrow(0, v0, values.Length).data<float>().ToArray();
            for (var i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - actual[i]) < 1e-5, $"{fixture} logits[{b},{t},{v0 + i}] {actual[i]} vs {values[i]}");
        }
        var argmax = root.GetProperty("argmax").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt64()).ToArray()).ToArray();
        var ours = logits.argmax(-1).data<long>().ToArray();
        Assert.Equal(argmax.SelectMany(r => r).ToArray(), ours);

        var stats = root.GetProperty("logits_stats_all");
        Assert.Equal(stats.GetProperty("count").GetInt64(), logits.numel());
        Assert.True(Math.Abs(stats.GetProperty("sum").GetDouble() - logits.to(ScalarType.Float64).sum().item<double>()) < 1e-3);
        Assert.True(Math.Abs(stats.GetProperty("sq_sum").GetDouble() - logits.to(ScalarType.Float64).square().sum().item<double>()) < 1e-3);
    }

    [Theory]
    [MemberData(nameof(TrainedFixtures))]
    public void Gradients_after_backward_match_the_reference(string fixture)
    {
        using var model = HfModelFolder.Load(TestAssets.Reference(fixture, "model"));
        var request = ScoreRequest.Load(TestAssets.Reference(fixture, "request.json"));
        using (var scope = NewDisposeScope())
        {
            var hidden = model.ForwardHidden(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
            var loss = CausalLmLoss.Compute(model, hidden, request.LabelsTensor(CPU), chunkTokens: 5);
            (loss.Sum / loss.Count).backward();
        }

        using var file = SafeTensorsFile.Open(TestAssets.Reference(fixture, "full_ft_grads_step1.safetensors"));
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(file.Tensors.Keys.Order(), parameters.Keys.Order());
        foreach (var (name, parameter) in parameters)
        {
            using var scope = NewDisposeScope();
            var expected = file.Read(name);
            var grad = parameter.grad ?? throw new Xunit.Sdk.XunitException($"{fixture}: {name} has no gradient");
            var excess = ((grad - expected).abs() - (1e-5 + 1e-3 * expected.abs())).max().item<float>();
            Assert.True(excess <= 0, $"{fixture}: gradient of {name} off by {excess} beyond 1e-5 abs + 1e-3 rel");
        }

        if (model.Config.PadTokenId is { } pad)
        {
            // HF padding_idx: the padding row gets exactly zero gradient even though the batch uses that id.
            Assert.Contains(pad, request.InputIds.SelectMany(r => r));
            Assert.Equal(0f, model.model.embed_tokens.weight!.grad![pad].abs().sum().item<float>());
        }
    }
}
