using System.Text.Json;
using Sft.Training.Config;
using Sft.Training.Config.Memory;

namespace Sft.Training.Tests.Config;

public sealed class MemoryEstimateTests
{
    static readonly ModelDims Qwen25_7B = ModelDims.TryRead(TestFiles.Fixture("qwen2_5_7b_config.json"), out _)!;

    static LoraSection Lora(string pattern, double dropout = 0) =>
        new(16, 16, dropout, TargetModules.FromPattern(pattern), null, false, null);

    static MemoryInputs Inputs(DType compute, DType param, LoraSection? lora = null, RecomputeSection? recompute = null) =>
        new(compute, param, 1, 4096, lora, recompute ?? new RecomputeSection(false, null), MaterializedAttention: false);

    [Fact]
    public void Qwen25_7BHasItsPublished7_6BParameters()
    {
        Assert.Equal(7_615_616_512, Qwen25_7B.ParameterCount());
    }

    [Theory]
    [InlineData("qwen2_tied")]
    [InlineData("qwen2_untied")]
    [InlineData("llama")]
    public void ParameterCountEqualsTheTensorsInTheReferenceCheckpoints(string model)
    {
        var folder = TestFiles.ReferenceModel(model);
        var dims = ModelDims.TryRead(Path.Combine(folder, "config.json"), out var error);
        Assert.Null(error);

        Assert.Equal(SafetensorsElements(Path.Combine(folder, "model.safetensors")), dims!.ParameterCount());
    }

    [Fact]
    public void FullFineTuningInBfloat16()
    {
        var m = MemoryEstimator.Estimate(Qwen25_7B, Inputs(DType.BFloat16, DType.BFloat16));

        Assert.Equal(7_615_616_512L * 2, m.WeightBytes);                  // 15.23 GB: the known ~15.2 GB of bf16 weights
        Assert.Equal("15.23 GB", MemoryEstimate.Gb(m.WeightBytes));
        Assert.Equal(0, m.MasterWeightBytes);
        Assert.Equal(7_615_616_512L * 2, m.GradientBytes);
        Assert.Equal(7_615_616_512L * 2 * 2, m.OptimizerBytes);
        Assert.Equal(m.TotalParameters, m.TrainableParameters);
    }

    [Fact]
    public void MixedPrecisionKeepsAFloat32MasterCopyAndFloat32Moments()
    {
        var m = MemoryEstimator.Estimate(Qwen25_7B, Inputs(DType.BFloat16, DType.Float32));

        Assert.Equal(7_615_616_512L * 4, m.MasterWeightBytes);
        Assert.Equal(7_615_616_512L * 2 * 4, m.OptimizerBytes);
    }

    [Fact]
    public void Float32DoublesTheWeights()
    {
        var bf16 = MemoryEstimator.Estimate(Qwen25_7B, Inputs(DType.BFloat16, DType.BFloat16));
        var fp32 = MemoryEstimator.Estimate(Qwen25_7B, Inputs(DType.Float32, DType.Float32));

        Assert.Equal(2 * bf16.WeightBytes, fp32.WeightBytes);
        Assert.Equal("30.46 GB", MemoryEstimate.Gb(fp32.WeightBytes));
        Assert.True(fp32.ActivationBytes > 1.5 * bf16.ActivationBytes);
    }

    [Fact]
    public void LoraTrainsTenMillionParametersForRank16OnQkvo()
    {
        var full = MemoryEstimator.Estimate(Qwen25_7B, Inputs(DType.BFloat16, DType.Float32));
        var lora = MemoryEstimator.Estimate(Qwen25_7B, Inputs(DType.BFloat16, DType.Float32, Lora(".*q_proj|.*k_proj|.*v_proj|.*o_proj")));

        // Per layer: 16·(3584+3584) q + 16·(3584+512) k + the same for v + 16·(3584+3584) o = 360,448; × 28 layers.
        Assert.Equal(10_092_544, lora.TrainableParameters);
        Assert.Equal(7_615_616_512 + 10_092_544, lora.TotalParameters);
        Assert.Equal((7_615_616_512L + 10_092_544) * 2, lora.WeightBytes);
        Assert.Equal(10_092_544L * 2, lora.GradientBytes);
        Assert.Equal(10_092_544L * 2 * 4, lora.OptimizerBytes);
        Assert.Equal(10_092_544L * 4, lora.MasterWeightBytes);
        Assert.True(full.TotalBytes - lora.TotalBytes > 100e9, $"full {MemoryEstimate.Gb(full.TotalBytes)} vs LoRA {MemoryEstimate.Gb(lora.TotalBytes)}");
        Assert.Contains("LoRA r=16 on 112 modules", lora.Setup);
    }

    [Fact]
    public void ActivationsFollowTheDocumentedCountAndShrinkWithRecompute()
    {
        var d = Qwen25_7B;
        var m = MemoryEstimator.Estimate(d, Inputs(DType.BFloat16, DType.BFloat16));
        long perLayer = (7L * d.HiddenSize + 4L * d.IntermediateSize) * 2 + 2L * d.HiddenSize * 4;
        long head = d.HiddenSize * (4 + 2 * 2) + (long)d.VocabSize * (2 + 4 + 4);
        Assert.Equal(4096L * (d.NumLayers * perLayer + head), m.ActivationBytes);

        var half = MemoryEstimator.Estimate(d, Inputs(DType.BFloat16, DType.BFloat16, recompute: new RecomputeSection(true, 14)));
        Assert.Equal(4096L * (15 * perLayer + 14L * d.HiddenSize * 2 + head), half.ActivationBytes);

        var scores = MemoryEstimator.Estimate(d, Inputs(DType.BFloat16, DType.BFloat16) with { MaterializedAttention = true });
        Assert.Equal(m.ActivationBytes + 4096L * d.NumLayers * d.NumHeads * 4096 * 2, scores.ActivationBytes);
    }

    [Fact]
    public void TheReportListsEveryComponent()
    {
        var text = MemoryEstimator.Estimate(Qwen25_7B, Inputs(DType.BFloat16, DType.BFloat16)).Format();

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
