using Sft.Training.Models;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Pipeline;

/// <summary>
/// The proof that packing changes nothing but speed: on a tiny random Qwen2-shaped model, the summed loss of a packed
/// batch (positions restarting per sample, segments kept apart, each sample's first label ignored) equals the
/// summed loss of the same samples padded one per row, and so do the gradients.
/// </summary>
public class PackedLossTests
{
    static CausalLM TinyModel()
    {
        var config = ModelConfig.Parse("""
            {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 32, "intermediate_size": 64,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-6,
             "rope_theta": 1000000.0, "tie_word_embeddings": true, "max_position_embeddings": 4096,
             "initializer_range": 0.02, "attention_dropout": 0.0, "torch_dtype": "float32"}
            """, "tiny/config.json");
        var model = new CausalLM(config);
        ModelInit.Initialize(model, seed: 1234);
        return model;
    }

    static (double Loss, long Count, Tensor Grad) LossAndGrad(CausalLM model, Batch batch)
    {
        model.zero_grad();
        using var scope = NewDisposeScope();
        var hidden = model.ForwardHidden(batch.InputIds, batch.AttentionMask, batch.PositionIds, batch.SegmentIds);
        var loss = CausalLmLoss.Compute(model, hidden, batch.Labels, chunkTokens: 64);
        loss.Sum.backward();
        var grad = model.model.layers[0].self_attn.q_proj.parameters().First().grad!.clone();
        return (loss.Sum.item<float>(), loss.Count, grad.MoveToOuterDisposeScope());
    }

    [Fact]
    public void Packed_loss_and_gradients_equal_the_unpacked_ones()
    {
        var encoder = new ConversationEncoder(BuiltInTokenizers.LoadQwen(), PromptTemplates.Get("qwen"), trainOnPrompt: true);
        var data = TokenizedDataset.Prepare(DemoRows.AlpacaEnglish.Take(8).ToList(), encoder, new SequenceLimit(48));
        var samples = data.Samples;
        Assert.Equal(8, samples.Count);
        var rows = Packer.NextRows(Enumerable.Range(0, samples.Count).ToArray(), 0, 0, i => samples[i].Length, seqLength: 160, rowCount: 8, PackingStrategy.Pack).Rows;
        Assert.True(rows.Count < samples.Count && rows.Any(r => r.Count > 1), "several samples share a row");

        using var model = TinyModel();
        using var unpacked = BatchCollator.Pad(samples, BuiltInTokenizers.LoadQwen().Special.Pad);
        using var packed = BatchCollator.Pack(rows.Select(r => (IReadOnlyList<EncodedSample>)r.Select(p => samples[p.Sample]).ToList()).ToList(),
            BuiltInTokenizers.LoadQwen().Special.Pad);

        var (lossA, countA, gradA) = LossAndGrad(model, unpacked);
        var (lossB, countB, gradB) = LossAndGrad(model, packed);
        using (gradA) using (gradB)
        {
            Assert.Equal(countA, countB);
            Assert.Equal(unpacked.LossTokenCount, countA);
            Assert.Equal(packed.LossTokenCount, countB);
            Assert.True(Math.Abs(lossA - lossB) <= 1e-5 * Math.Abs(lossA), $"unpacked {lossA} vs packed {lossB}");
            var gradDiff = (gradA - gradB).abs().max().item<float>();
            Assert.True(gradDiff <= 1e-5 * gradA.abs().max().item<float>() + 1e-9, $"gradient differs by {gradDiff}");
        }
    }
}
