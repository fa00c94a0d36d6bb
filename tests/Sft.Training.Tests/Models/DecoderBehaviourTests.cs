using Sft.Training.Checkpoints;
using Sft.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Models;

/// <summary>Masks, packing, KV cache, dtype and memory behaviour of the decoder, on the reference checkpoints.</summary>
public class DecoderBehaviourTests
{
    static CausalLM Load(string fixture, ScalarType dtype = ScalarType.Float32) =>
        HfModelFolder.Load(TestAssets.Reference(fixture, "model"), new ModelLoadOptions { Dtype = dtype });

    static Tensor Ids(params long[] ids) => tensor(ids, [1, ids.Length], ScalarType.Int64);

    static float MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData("qwen2_tied")]
    [InlineData("llama")]
    public void Left_padding_gives_the_unpadded_logits_and_no_nan(string fixture)
    {
        using var model = Load(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var alone = model.forward(Ids(5, 17, 99, 250));                                        // [1, 4, V]
        var padded = model.forward(Ids(0, 0, 5, 17, 99, 250),
            attentionMask: Ids(0, 0, 1, 1, 1, 1), positionIds: Ids(0, 0, 0, 1, 2, 3));
        Assert.False(padded.isnan().any().item<bool>(), "fully masked query rows must not produce NaN");
        Assert.True(MaxDiff(alone, padded.narrow(1, 2, 4)) < 1e-5);
    }

    [Theory]
    [InlineData("qwen2_untied")]
    [InlineData("llama")]
    public void Packed_segments_do_not_see_each_other(string fixture)
    {
        using var model = Load(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var first = model.forward(Ids(5, 17, 99));
        var second = model.forward(Ids(300, 42, 7, 8));
        var packed = model.forward(Ids(5, 17, 99, 300, 42, 7, 8),
            positionIds: Ids(0, 1, 2, 0, 1, 2, 3), segmentIds: Ids(1, 1, 1, 2, 2, 2, 2));
        Assert.True(MaxDiff(first, packed.narrow(1, 0, 3)) < 1e-5);
        Assert.True(MaxDiff(second, packed.narrow(1, 3, 4)) < 1e-5);
    }

    [Theory]
    [InlineData("qwen2_tied")]
    [InlineData("llama")]
    public void Kv_cache_steps_match_the_full_forward(string fixture)
    {
        using var model = Load(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sequence = new long[] { 1, 45, 300, 7, 128, 2, 77, 9 };
        var full = model.forward(Ids(sequence));                                               // [1, 8, V]
        using var cache = model.NewCache();
        var prefill = model.ForwardCached(Ids(sequence[..5]), cache);                         // 5 tokens at once
        Assert.Equal(5, cache.Length);
        Assert.True(MaxDiff(full.narrow(1, 0, 5), prefill) < 1e-5);
        var chunk = model.ForwardCached(Ids(sequence[5..7]), cache);                          // 2 tokens after a past
        Assert.True(MaxDiff(full.narrow(1, 5, 2), chunk) < 1e-5);
        var step = model.ForwardCached(Ids(sequence[7]), cache);                              // 1 token
        Assert.True(MaxDiff(full.narrow(1, 7, 1), step) < 1e-5);
        Assert.Equal(8, cache.Length);
    }

    [Fact]
    public void Bf16_compute_stays_close_to_fp32()
    {
        using var fp32 = Load("qwen2_untied");
        using var bf16 = Load("qwen2_untied", ScalarType.BFloat16);
        var request = ScoreRequest.Load(TestAssets.Reference("qwen2_untied", "request.json"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = fp32.forward(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
        var b = bf16.forward(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
        Assert.Equal(ScalarType.BFloat16, b.dtype);
        Assert.False(b.isnan().any().item<bool>());
        Assert.True(MaxDiff(a, b.to(ScalarType.Float32)) < 0.05, $"bf16 vs fp32 logits differ by {MaxDiff(a, b.to(ScalarType.Float32))}");
        var lossA = Scorer.Score(fp32, request).Loss;
        var lossB = Scorer.Score(bf16, request).Loss;
        Assert.True(Math.Abs(lossA - lossB) < 0.02, $"loss fp32 {lossA} vs bf16 {lossB}");
    }

    [Fact]
    public void Converting_with_to_equals_loading_in_that_dtype()
    {
        using var converted = Load("llama");
        converted.to(ScalarType.BFloat16);
        using var loaded = Load("llama", ScalarType.BFloat16);
        Assert.All(converted.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = Ids(5, 17, 99, 250, 3, 42);
        Assert.True(converted.forward(ids).equal(loaded.forward(ids)).all().item<bool>(), "RoPE tables must stay fp32 and follow the module");
    }

    [Fact]
    public void Training_steps_do_not_leak_tensors()
    {
        using var model = Load("llama");
        var request = ScoreRequest.Load(TestAssets.Reference("llama", "request.json"));
        long Step()
        {
            using (var scope = NewDisposeScope())
            {
                var hidden = model.ForwardHidden(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
                var loss = CausalLmLoss.Compute(model, hidden, request.LabelsTensor(CPU));
                (loss.Sum / loss.Count).backward();
            }
            model.zero_grad();
            return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
        Step();
        var after2 = Step();
        for (var i = 0; i < 5; i++) Step();
        Assert.Equal(after2, Step());
    }

    [Fact]
    public void Loss_chunking_does_not_change_the_result()
    {
        using var model = Load("qwen2_tied");
        var request = ScoreRequest.Load(TestAssets.Reference("qwen2_tied", "request.json"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var hidden = model.ForwardHidden(request.InputIdsTensor(CPU), request.AttentionMaskTensor(CPU));
        var labels = request.LabelsTensor(CPU);
        var whole = CausalLmLoss.Compute(model.Logits(hidden), labels, chunkTokens: 1 << 20);
        foreach (var chunk in new long[] { 1, 3, 7 })
        {
            var chunked = CausalLmLoss.Compute(model, hidden, labels, chunk);
            Assert.Equal(whole.Count, chunked.Count);
            Assert.True(Math.Abs(whole.Sum.item<float>() - chunked.Sum.item<float>()) < 1e-4);
        }
        var none = CausalLmLoss.Compute(model, hidden, full_like(labels, CausalLmLoss.IgnoreIndex));
        Assert.Equal(0, none.Count);
        Assert.Equal(0f, none.Sum.item<float>());
    }

    [Fact]
    public void A_projection_can_be_swapped_at_the_same_key()
    {
        using var model = Load("qwen2_untied");
        var attention = model.model.layers[0].self_attn;
        var before = model.state_dict().Keys.ToArray();
        using var scope = NewDisposeScope();
        var old = attention.q_proj;
        var replacement = nn.Linear(64, 64, hasBias: true);
        using (no_grad())
        {
            replacement.weight!.copy_(old.state_dict()["weight"] * 2);
            replacement.bias!.copy_(old.state_dict()["bias"]);
        }
        attention.ReplaceProjection("q_proj", replacement);
        Assert.Equal(before, model.state_dict().Keys.ToArray());
        Assert.Same(replacement.weight, model.state_dict()["model.layers.0.self_attn.q_proj.weight"]);
        Assert.Throws<ArgumentException>(() => attention.ReplaceProjection("w_q", replacement));
    }

    [Fact]
    public void Bad_inputs_get_clear_errors()
    {
        using var model = Load("llama");
        using var scope = NewDisposeScope();
        Assert.Contains("vocab_size 512", Assert.Throws<ArgumentException>(() => model.forward(Ids(1, 600))).Message);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => model.forward(tensor(new[] { 1f, 2f }).view(1, 2))).Message);
        Assert.Contains("attention_mask must be [1, 2]", Assert.Throws<ArgumentException>(() => model.forward(Ids(1, 2), attentionMask: Ids(1, 1, 1))).Message);
        Assert.Contains("labels [1, 3] do not match", Assert.Throws<ArgumentException>(() => CausalLmLoss.Compute(model.forward(Ids(1, 2)), Ids(1, 2, 3))).Message);
    }
}
