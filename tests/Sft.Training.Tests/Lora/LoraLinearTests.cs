using Sft.Training.Checkpoints;
using Sft.Training.Lora;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Lora;

public class LoraLinearTests
{
    static LoraLinear FromReference(string fixture, string module, out Tensor merged)
    {
        var settings = PeftAdapter.ReadSettings(TestAssets.Reference(fixture, "lora_init"));
        using var model = WeightSource.Open(TestAssets.Reference(fixture, "model"));
        using var mergedSource = WeightSource.Open(TestAssets.Reference(fixture, "lora_merged_init"));
        var biasName = $"{module}.bias";
        var layer = new LoraLinear(new Parameter(model.Read($"{module}.weight")),
            model.Names.Contains(biasName) ? new Parameter(model.Read(biasName)) : null,
            settings.Rank, settings.Alpha, settings.Dropout, settings.UseRsLora);
        PeftAdapter.LoadWeights(TestAssets.Reference(fixture, "lora_init"), new[] { (module, layer) }.Concat(OtherLayers(fixture, module, settings, model)));
        merged = mergedSource.Read($"{module}.weight");
        return layer;
    }

    // LoadWeights insists that every tensor of the file has a place: give it all adapted modules.
    static IEnumerable<(string, LoraLinear)> OtherLayers(string fixture, string except, LoraSettings settings, WeightSource model)
    {
        using var file = SafeTensorsFile.Open(TestAssets.Reference(fixture, "lora_init", PeftAdapter.WeightsFile));
        return file.Tensors.Keys.Where(k => k.EndsWith(".lora_A.weight"))
            .Select(k => k["base_model.model.".Length..^".lora_A.weight".Length])
            .Where(m => m != except)
            .Select(m => (m, new LoraLinear(new Parameter(model.Read($"{m}.weight")), null, settings.Rank, settings.Alpha, 0, settings.UseRsLora)))
            .ToList();
    }

    [Theory]
    [InlineData("qwen2_untied", "model.layers.1.self_attn.v_proj")]
    [InlineData("qwen2_tied", "model.layers.0.mlp.down_proj")]
    [InlineData("llama", "model.layers.1.self_attn.q_proj")]   // rsLoRA scaling
    public void Merge_matches_the_reference_merged_model_and_keeps_the_output(string fixture, string module)
    {
        using var scope = NewDisposeScope();
        var layer = FromReference(fixture, module, out var expectedMerged);
        manual_seed(0);
        var x = randn(3, 5, layer.Weight.shape[1]);
        var unmerged = layer.forward(x);
        layer.Merge();
        Assert.True((layer.Weight - expectedMerged).abs().max().item<float>() < 1e-6);
        var after = layer.forward(x);
        Assert.True((after - unmerged).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Only_the_adapter_trains_and_base_keys_stay_where_they_were()
    {
        using var scope = NewDisposeScope();
        var layer = new LoraLinear(new Parameter(randn(8, 6)), new Parameter(randn(8)), rank: 2, alpha: 4, dropout: 0, useRsLora: false);
        var names = layer.named_parameters().Select(p => p.name).Order().ToArray();
        Assert.Equal(["bias", "lora_A.weight", "lora_B.weight", "weight"], names);
        var trainable = layer.parameters().Where(p => p.requires_grad).Count();
        Assert.Equal(2, trainable);
        Assert.Equal(0, layer.LoraB.abs().sum().item<float>());   // starts at the base model
        Assert.Equal(2.0, layer.Scaling);
    }

    [Fact]
    public void Target_rules_follow_peft()
    {
        var list = new LoraTargets(["q_proj", "wv", "w2"]);
        Assert.True(list.Matches("model.layers.0.self_attn.q_proj"));
        Assert.True(list.Matches("model.layers.3.self_attn.v_proj"));
        Assert.True(list.Matches("model.layers.3.mlp.down_proj"));
        Assert.False(list.Matches("model.layers.3.self_attn.o_proj"));
        Assert.False(list.Matches("model.layers.3.self_attn.xq_proj"));

        var regex = new LoraTargets(@"model\.layers\.\d+\.self_attn\.(q_proj|v_proj)");
        Assert.True(regex.Matches("model.layers.12.self_attn.v_proj"));
        Assert.False(regex.Matches("model.layers.12.self_attn.v_proj.extra"));   // must match the whole name
        Assert.False(regex.Matches("model.layers.12.self_attn.k_proj"));

        var mindformers = new LoraTargets(".*wq|.*wk|.*wv|.*wo");
        Assert.True(mindformers.Matches("model.layers.0.self_attn.o_proj"));
        Assert.False(mindformers.Matches("model.layers.0.mlp.up_proj"));
        Assert.Throws<ArgumentException>(() => new LoraTargets("(unclosed"));

        // MindFormers block names, in lists and regexes; a \w escape is left alone.
        var dotted = new LoraTargets(["attention.wq", "feed_forward.w1"]);
        Assert.True(dotted.Matches("model.layers.2.self_attn.q_proj"));
        Assert.True(dotted.Matches("model.layers.2.mlp.gate_proj"));
        Assert.False(dotted.Matches("model.layers.2.mlp.up_proj"));
        var dottedRegex = new LoraTargets(@".*\.attention\.(wq|wv)");
        Assert.True(dottedRegex.Matches("model.layers.0.self_attn.v_proj"));
        var escape = new LoraTargets(@"model\.layers\.\d+\.mlp\.\w+_proj");
        Assert.True(escape.Matches("model.layers.1.mlp.down_proj"));
        var escapeW1 = new LoraTargets(@".*\w1");   // \w1 is "a word character, then 1", not MindFormers' w1
        Assert.Equal(@".*\w1", escapeW1.Describe());
    }

    [Fact]
    public void Adapter_folder_round_trip_keeps_settings_and_weights()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var settings = new LoraSettings(4, 8, 0.05, new LoraTargets(["q_proj", "v_proj"]), UseRsLora: true);
        var layer = new LoraLinear(new Parameter(randn(16, 8)), null, 4, 8, 0.05, true);
        using (no_grad()) layer.LoraB.normal_();
        PeftAdapter.Save(dir.Path, settings, [("model.layers.0.self_attn.q_proj", layer)], "Qwen/Qwen2.5-0.5B");

        var read = PeftAdapter.ReadSettings(dir.Path);
        Assert.Equal((4, 8.0, 0.05, true), (read.Rank, read.Alpha, read.Dropout, read.UseRsLora));
        Assert.Equal("q_proj, v_proj", read.Targets.Describe());

        var copy = new LoraLinear(new Parameter(randn(16, 8)), null, 4, 8, 0, true);
        PeftAdapter.LoadWeights(dir.Path, [("model.layers.0.self_attn.q_proj", copy)]);
        Assert.True(copy.LoraA.equal(layer.LoraA).all().item<bool>());
        Assert.True(copy.LoraB.equal(layer.LoraB).all().item<bool>());

        var wrongPlace = new LoraLinear(new Parameter(randn(16, 8)), null, 4, 8, 0, true);
        var error = Assert.Throws<InvalidDataException>(() => PeftAdapter.LoadWeights(dir.Path, [("model.layers.0.self_attn.k_proj", wrongPlace)]));
        Assert.Contains("k_proj.lora_A.weight", error.Message);
    }

    [Fact]
    public void Unsupported_adapter_configs_are_refused_by_key()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir[PeftAdapter.ConfigFile], """{"peft_type":"LORA","r":8,"target_modules":["q_proj"],"use_dora":true}""");
        var error = Assert.Throws<InvalidDataException>(() => PeftAdapter.ReadSettings(dir.Path));
        Assert.Contains("use_dora", error.Message);
    }
}
