using System.Text.Json;
using Sft.Training.Config;
using Sft.Training.Config.Memory;
using Sft.Training.Lora;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Config;

public sealed class MemoryEstimateTests
{
    static readonly ModelConfig Qwen25_7B = ModelConfig.Load(TestFiles.Qwen25_7BConfig);

    const long Params7B = 7_615_616_512;

    static MemoryInputs Inputs(ScalarType dtype, LoraSettings? lora = null, int recompute = 0) =>
        new(dtype, 1, 4096, lora, recompute, MaterializedAttention: false);

    static LoraSettings Lora(string pattern, double dropout = 0) => new(16, 16, dropout, new LoraTargets(pattern), false);

    [Fact]
    public void Qwen25_7BHasItsPublished7_6BParameters() => Assert.Equal(Params7B, Qwen25_7B.ParameterCount());

    [Theory]
    [InlineData("qwen2_tied")]
    [InlineData("qwen2_untied")]
    [InlineData("llama")]
    public void EstimatesCountTheTensorsOfTheReferenceCheckpoints(string model)
    {
        var folder = TestFiles.ReferenceModel(model);
        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));

        var estimate = MemoryEstimator.Estimate(config, Inputs(ScalarType.Float32));

        Assert.Equal(SafetensorsElements(Path.Combine(folder, "model.safetensors")), estimate.TotalParameters);
        Assert.Equal(estimate.TotalParameters * 4, estimate.WeightBytes);
    }

    [Fact]
    public void FullFineTuningInBfloat16()
    {
        var m = MemoryEstimator.Estimate(Qwen25_7B, Inputs(ScalarType.BFloat16));

        Assert.Equal(Params7B * 2, m.WeightBytes);                         // the known ~15.2 GB of bf16 weights
        Assert.Equal("15.23 GB", MemoryEstimate.Gb(m.WeightBytes));
        Assert.Equal(Params7B * 4, m.MasterWeightBytes);                    // AdamW's float32 master copy
        Assert.Equal(Params7B * 2, m.GradientBytes);
        Assert.Equal(Params7B * 2 * 4, m.OptimizerBytes);                   // two float32 moments
        Assert.Equal(m.TotalParameters, m.TrainableParameters);
    }

    [Fact]
    public void Float32DoublesTheWeightsAndNeedsNoMasterCopy()
    {
        var bf16 = MemoryEstimator.Estimate(Qwen25_7B, Inputs(ScalarType.BFloat16));
        var fp32 = MemoryEstimator.Estimate(Qwen25_7B, Inputs(ScalarType.Float32));

        Assert.Equal(2 * bf16.WeightBytes, fp32.WeightBytes);
        Assert.Equal("30.46 GB", MemoryEstimate.Gb(fp32.WeightBytes));
        Assert.Equal(0, fp32.MasterWeightBytes);
        Assert.Equal(bf16.OptimizerBytes, fp32.OptimizerBytes);
        Assert.True(fp32.ActivationBytes > 1.5 * bf16.ActivationBytes);
    }

    [Fact]
    public void LoraTrainsTenMillionParametersForRank16OnQkvo()
    {
        var full = MemoryEstimator.Estimate(Qwen25_7B, Inputs(ScalarType.BFloat16));
        var lora = MemoryEstimator.Estimate(Qwen25_7B, Inputs(ScalarType.BFloat16, Lora(".*wq|.*wk|.*wv|.*wo")));

        // Per layer: 16·(3584+3584) q + 16·(3584+512) k + the same for v + 16·(3584+3584) o = 360,448; × 28 layers.
        Assert.Equal(10_092_544, lora.TrainableParameters);
        Assert.Equal(Params7B + 10_092_544, lora.TotalParameters);
        Assert.Equal((Params7B + 10_092_544) * 2, lora.WeightBytes);
        Assert.Equal(10_092_544L * 2, lora.GradientBytes);
        Assert.Equal(10_092_544L * 4, lora.MasterWeightBytes);
        Assert.Equal(10_092_544L * 2 * 4, lora.OptimizerBytes);
        Assert.True(full.TotalBytes - lora.TotalBytes > 100e9, $"full {MemoryEstimate.Gb(full.TotalBytes)} vs LoRA {MemoryEstimate.Gb(lora.TotalBytes)}");
        Assert.StartsWith("LoRA r=16 on 112 modules", lora.Setup);
    }

    [Fact]
    public void ActivationsFollowTheDocumentedCountAndShrinkWithRecompute()
    {
        var d = Qwen25_7B;
        var m = MemoryEstimator.Estimate(d, Inputs(ScalarType.BFloat16));
        var perLayer = (7 * d.HiddenSize + 4 * d.IntermediateSize) * 2 + 2 * d.HiddenSize * 4;
        var head = d.HiddenSize * (4 + 2 * 2);
        // The fused loss: one fp32 chunk of logits (256 MiB budget with a trained head: 441 rows of 151,936), the
        // head's fp32 gradient, and one 64 MiB slice of the bf16 head widened to fp32.
        Assert.Equal(441, CausalLmLoss.ChunkRows(d.VocabSize, headTrained: true));
        const long slice = 64L << 20;
        var loss = 441L * d.VocabSize * 4 + (long)d.VocabSize * d.HiddenSize * 4 + slice;
        Assert.Equal(4096L * (d.NumHiddenLayers * perLayer + head) + loss, m.ActivationBytes);

        var half = MemoryEstimator.Estimate(d, Inputs(ScalarType.BFloat16, recompute: 14));
        Assert.Equal(4096L * (15 * perLayer + 14 * d.HiddenSize * 2 + head) + loss, half.ActivationBytes);

        // LoRA leaves the head frozen: a 64 MiB chunk (110 rows), no head gradient, one widened slice.
        var lora = MemoryEstimator.Estimate(d, Inputs(ScalarType.BFloat16, Lora(".*wq|.*wv")));
        Assert.Equal(110, CausalLmLoss.ChunkRows(d.VocabSize, headTrained: false));
        var adapterRows = 2 * 16 * 2;                                       // q and v: r = 16 bf16 values each per token
        Assert.Equal(4096L * (d.NumHiddenLayers * (perLayer + adapterRows) + head) + 110L * d.VocabSize * 4 + slice, lora.ActivationBytes);

        var scores = MemoryEstimator.Estimate(d, Inputs(ScalarType.BFloat16) with { MaterializedAttention = true });
        Assert.Equal(m.ActivationBytes + 4096L * d.NumHiddenLayers * d.NumAttentionHeads * 4096 * 2, scores.ActivationBytes);

        var dropout = MemoryEstimator.Estimate(d, Inputs(ScalarType.BFloat16, Lora(".*wq|.*wv", dropout: 0.05)));
        var noDropout = MemoryEstimator.Estimate(d, Inputs(ScalarType.BFloat16, Lora(".*wq|.*wv")));
        // The dropped input (2 bytes) and its mask (1 byte) for q and v in every layer.
        Assert.Equal(4096L * d.NumHiddenLayers * 2 * d.HiddenSize * 3, dropout.ActivationBytes - noDropout.ActivationBytes);
    }

    [Fact]
    public void TheReportListsEveryComponent()
    {
        var text = MemoryEstimator.Estimate(Qwen25_7B, Inputs(ScalarType.BFloat16)).Format();

        foreach (var name in new[] { "weights", "master weights", "gradients", "optimizer", "activations", "total" })
            Assert.Contains(name, text);
        Assert.Contains("7,615,616,512 parameters × 2 bytes (bfloat16)", text);
    }

    /// <summary>Sum of the element counts of every tensor in a safetensors file's header.</summary>
    static long SafetensorsElements(string file)
    {
        using var stream = File.OpenRead(file);
        var lengthBytes = new byte[8];
        stream.ReadExactly(lengthBytes);
        var header = new byte[BitConverter.ToUInt64(lengthBytes)];
        stream.ReadExactly(header);
        using var doc = JsonDocument.Parse(header);
        return doc.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .Sum(p => p.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (n, dim) => n * dim.GetInt64()));
    }
}
