using System.Text;
using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Checkpoints;

public class HfModelFolderTests
{
    static string Fixture(string name) => TestAssets.Reference(name, "model");

    static void AssertSameParameters(CausalLM expected, CausalLM actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, tensor) in a)
        {
            Assert.Equal(tensor.dtype, b[name].dtype);
            Assert.True(tensor.equal(b[name]).all().item<bool>(), $"{name} differs after the round trip");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Save_then_load_is_bit_exact(ScalarType dtype)
    {
        using var dir = new TempDir();
        using var model = HfModelFolder.Load(Fixture("qwen2_untied"), new ModelLoadOptions { Dtype = dtype });
        HfModelFolder.Save(model, dir["out"], new ModelSaveOptions { TokenizerFrom = Path.Combine(TestAssets.Root, "..", "..", "src", "Training", "Assets", "tokenizers", "qwen") });
        using var loaded = HfModelFolder.Load(dir["out"], new ModelLoadOptions { Dtype = dtype });
        AssertSameParameters(model, loaded);

        using var config = JsonDocument.Parse(File.ReadAllText(dir["out/config.json"]));
        Assert.Equal(ModelConfig.DtypeName(dtype), config.RootElement.GetProperty("torch_dtype").GetString());
        Assert.Equal("qwen2", config.RootElement.GetProperty("model_type").GetString());
        Assert.True(File.Exists(dir["out/generation_config.json"]));
        Assert.True(File.Exists(dir["out/tokenizer_config.json"]));
        using var file = SafeTensorsFile.Open(dir["out/model.safetensors"]);
        Assert.All(file.Tensors.Values, t => Assert.Equal(SafeTensorsFile.ToDtypeName(dtype), t.Dtype));
    }

    [Fact]
    public void Written_weights_follow_the_safetensors_layout()
    {
        using var dir = new TempDir();
        using var model = HfModelFolder.Load(Fixture("qwen2_tied"));
        HfModelFolder.Save(model, dir["out"]);

        // Parse the file by hand, as the reference (Rust/Python safetensors) does.
        var bytes = File.ReadAllBytes(dir["out/model.safetensors"]);
        var headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, headerLength % 8);
        var headerText = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Matches("^\\{.*\\} *$", headerText);                                            // JSON, then space padding

        using var header = JsonDocument.Parse(headerText);
        Assert.Equal("pt", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        var spans = header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .Select(p => (p.Name, Begin: p.Value.GetProperty("data_offsets")[0].GetInt64(), End: p.Value.GetProperty("data_offsets")[1].GetInt64(),
                Elements: p.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64()), Dtype: p.Value.GetProperty("dtype").GetString()))
            .OrderBy(s => s.Begin).ToList();
        long expectedBegin = 0;
        foreach (var s in spans)
        {
            Assert.Equal(expectedBegin, s.Begin);                                                // no holes, no overlap
            Assert.Equal("F32", s.Dtype);
            Assert.Equal(s.Elements * 4, s.End - s.Begin);
            expectedBegin = s.End;
        }
        Assert.Equal(bytes.Length - 8 - headerLength, expectedBegin);                          // data ends the file
        Assert.DoesNotContain(spans, s => s.Name == "lm_head.weight");                          // tied: one matrix

        // The bytes of a tensor are the reference's bytes.
        using var reference = SafeTensorsFile.Open(Path.Combine(Fixture("qwen2_tied"), "model.safetensors"));
        var embed = spans.Single(s => s.Name == "model.embed_tokens.weight");
        using var original = reference.Read("model.embed_tokens.weight");
        var ours = new float[embed.Elements];
        Buffer.BlockCopy(bytes, (int)(8 + headerLength + embed.Begin), ours, 0, (int)(embed.End - embed.Begin));
        Assert.Equal(original.data<float>().ToArray(), ours);
    }

    [Fact]
    public void Large_weights_are_sharded_with_an_index()
    {
        using var dir = new TempDir();
        using var model = HfModelFolder.Load(Fixture("qwen2_untied"));
        HfModelFolder.Save(model, dir["out"], new ModelSaveOptions { MaxShardBytes = 200_000 });

        var shards = Directory.GetFiles(dir["out"], "model-*.safetensors").Select(Path.GetFileName).Order().ToArray();
        Assert.True(shards.Length >= 3, $"expected several shards, got {shards.Length}");
        Assert.Equal($"model-00001-of-{shards.Length:D5}.safetensors", shards[0]);
        Assert.False(File.Exists(dir["out/model.safetensors"]));
        using var index = JsonDocument.Parse(File.ReadAllText(dir["out/model.safetensors.index.json"]));
        var total = index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64();
        Assert.Equal(model.parameters().Sum(p => p.numel() * 4), total);
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(model.state_dict().Keys.Order(), map.Keys.Order());
        Assert.All(map.Values, f => Assert.Contains(f, shards));

        using var loaded = HfModelFolder.Load(dir["out"]);
        AssertSameParameters(model, loaded);
    }

    [Fact]
    public void Saving_over_a_folder_replaces_it_atomically()
    {
        using var dir = new TempDir();
        using var model = HfModelFolder.Load(Fixture("llama"));
        Directory.CreateDirectory(dir["out"]);
        File.WriteAllText(dir["out/stale.txt"], "old");
        HfModelFolder.Save(model, dir["out"]);
        Assert.False(File.Exists(dir["out/stale.txt"]));
        Assert.Equal(new[] { "out" }, Directory.GetFileSystemEntries(dir.Path).Select(p => Path.GetFileName(p)!).ToArray());
        Assert.DoesNotContain(Directory.GetFiles(dir["out"]), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, "BF16")]
    [InlineData(ScalarType.Float16, "F16")]
    public void Half_precision_storage_loads_into_fp32_compute(ScalarType storage, string dtypeName)
    {
        using var dir = new TempDir();
        using var bf16 = HfModelFolder.Load(Fixture("llama"), new ModelLoadOptions { Dtype = storage });
        HfModelFolder.Save(bf16, dir["out"]);
        using (var file = SafeTensorsFile.Open(dir["out/model.safetensors"]))
            Assert.All(file.Tensors.Values, t => Assert.Equal(dtypeName, t.Dtype));
        using var fp32 = HfModelFolder.Load(dir["out"], new ModelLoadOptions { Dtype = ScalarType.Float32 });
        Assert.Equal(ScalarType.Float32, fp32.Dtype);
        var expected = bf16.state_dict();
        foreach (var (name, p) in fp32.state_dict())
            Assert.True(p.equal(expected[name].to(ScalarType.Float32)).all().item<bool>(), name);
    }

    [Fact]
    public void First_n_layers_load_and_save_as_a_smaller_model()
    {
        using var dir = new TempDir();
        using var model = HfModelFolder.Load(Fixture("qwen2_untied_sharded"), new ModelLoadOptions { NumLayers = 1 });
        Assert.Equal(1, model.Config.NumHiddenLayers);
        Assert.Single(model.model.layers);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("model.layers.1.", StringComparison.Ordinal));
        using var weights = WeightSource.Open(Fixture("qwen2_untied"));
        using (var expected = weights.Read("model.layers.0.mlp.down_proj.weight"))
            Assert.True(model.state_dict()["model.layers.0.mlp.down_proj.weight"].equal(expected).all().item<bool>());

        HfModelFolder.Save(model, dir["out"]);
        Assert.Equal(1, HfModelFolder.ReadConfig(dir["out"]).NumHiddenLayers);
        using var reloaded = HfModelFolder.Load(dir["out"]);
        AssertSameParameters(model, reloaded);

        var error = Assert.Throws<ArgumentException>(() => HfModelFolder.Load(Fixture("qwen2_untied"), new ModelLoadOptions { NumLayers = 3 }));
        Assert.Contains("num_hidden_layers 2", error.Message);
    }

    static string CopyFixture(TempDir dir, string name)
    {
        var target = dir["copy"];
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(Fixture(name))) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }

    static void Rewrite(string folder, Func<List<(string Name, Tensor Tensor)>, List<(string Name, Tensor Tensor)>> change)
    {
        List<(string, Tensor)> tensors;
        using (var file = SafeTensorsFile.Open(Path.Combine(folder, "model.safetensors")))
            tensors = change(file.Tensors.Keys.Select(n => (n, file.Read(n))).ToList());
        SafeTensorsWriter.Save(Path.Combine(folder, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    [Fact]
    public void Missing_unexpected_and_misshaped_tensors_are_named()
    {
        using var dir = new TempDir();
        var folder = CopyFixture(dir, "llama");
        Rewrite(folder, list =>
        {
            list.RemoveAll(t => t.Name == "model.layers.1.mlp.up_proj.weight");
            list.Add(("model.layers.0.self_attn.rotary.extra", zeros(3)));
            var i = list.FindIndex(t => t.Name == "model.norm.weight");
            list[i] = ("model.norm.weight", ones(65));
            return list;
        });
        var message = Assert.Throws<InvalidDataException>(() => HfModelFolder.Load(folder)).Message;
        Assert.Contains("missing tensors (1): model.layers.1.mlp.up_proj.weight", message);
        Assert.Contains("unexpected tensors (1): model.layers.0.self_attn.rotary.extra", message);
        Assert.Contains("'model.norm.weight' has shape [65] in the checkpoint but config.json implies [64]", message);
    }

    [Fact]
    public void Untied_config_with_a_tied_checkpoint_suggests_the_fix()
    {
        using var dir = new TempDir();
        var folder = CopyFixture(dir, "qwen2_tied");
        var config = File.ReadAllText(Path.Combine(folder, "config.json")).Replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false");
        File.WriteAllText(Path.Combine(folder, "config.json"), config);
        var message = Assert.Throws<InvalidDataException>(() => HfModelFolder.Load(folder)).Message;
        Assert.Contains("missing tensors (1): lm_head.weight", message);
        Assert.Contains("tie_word_embeddings", message);
    }

    [Fact]
    public void Tied_checkpoint_that_stores_the_head_is_checked()
    {
        using var dir = new TempDir();
        var folder = CopyFixture(dir, "qwen2_tied");
        Rewrite(folder, list => [.. list, ("lm_head.weight", list.Single(t => t.Name == "model.embed_tokens.weight").Tensor.clone())]);
        using (var model = HfModelFolder.Load(folder)) Assert.Null(model.lm_head);

        Rewrite(folder, list => list.Select(t => t.Name == "lm_head.weight" ? (t.Name, t.Tensor + 1) : t).ToList());
        Assert.Contains("lm_head.weight differs", Assert.Throws<InvalidDataException>(() => HfModelFolder.Load(folder)).Message);
    }
}
