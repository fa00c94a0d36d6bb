using System.Text.Json;
using Sft.Training.Checkpoints;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Checkpoints;

public class SafeTensorsTests
{
    [Fact]
    public void Reads_the_reference_checkpoint_and_its_sharded_copy_identically()
    {
        using var single = WeightSource.Open(TestAssets.Reference("qwen2_untied", "model"));
        using var sharded = WeightSource.Open(TestAssets.Reference("qwen2_untied_sharded", "model"));
        Assert.Equal(single.Names.Order(), sharded.Names.Order());
        Assert.Equal(4, sharded.Files.Count);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", single.Names);
        foreach (var name in single.Names)
        {
            using var a = single.Read(name);
            using var b = sharded.Read(name);
            Assert.True(a.equal(b).all().item<bool>(), name);
        }
        var info = single.Info("model.embed_tokens.weight");
        Assert.Equal("F32", info.Dtype);
        Assert.Equal([512L, 64L], info.Shape);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void Round_trip_is_bit_exact(ScalarType dtype)
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        manual_seed(1);
        var tensors = new List<(string, Tensor)>
        {
            ("a.weight", randn(17, 33).to(dtype)),
            ("b.bias", randn(5).to(dtype)),
            ("c.ids", randint(0, 1000, [3, 4], dtype: ScalarType.Int64)),
            ("d.scalar", tensor(3.5f).to(dtype)),
            ("e.empty", zeros(0, 4).to(dtype)),
        };
        var path = dir["x.safetensors"];
        SafeTensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        foreach (var (name, expected) in tensors)
        {
            using var actual = file.Read(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.equal(actual).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Written_header_follows_the_format_exactly()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var path = dir["x.safetensors"];
        SafeTensorsWriter.Save(path, [("w", ones(3, 3)), ("b", ones(5, dtype: ScalarType.BFloat16))], new Dictionary<string, string> { ["format"] = "pt" });
        var bytes = File.ReadAllBytes(path);
        var headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, headerLength % 8);
        var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)).RootElement;
        Assert.Equal("pt", header.GetProperty("__metadata__").GetProperty("format").GetString());
        Assert.Equal("[0,36]", header.GetProperty("w").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[36,46]", header.GetProperty("b").GetProperty("data_offsets").GetRawText());
        Assert.Equal("BF16", header.GetProperty("b").GetProperty("dtype").GetString());
        Assert.Equal(8 + headerLength + 46, bytes.Length);   // no holes, nothing after the data
    }

    [Fact]
    public void Sharded_save_writes_an_index_that_loads_back()
    {
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var tensors = Enumerable.Range(0, 6).Select(i => ($"layers.{i}.weight", full(new long[] { 100, 10 }, (float)i))).ToList();
        SafeTensorsWriter.SaveWeights(dir.Path, tensors, maxShardBytes: 9_000);
        var index = JsonDocument.Parse(File.ReadAllText(dir["model.safetensors.index.json"])).RootElement;
        Assert.Equal(6 * 4000, index.GetProperty("metadata").GetProperty("total_size").GetInt64());
        Assert.Equal("model-00001-of-00003.safetensors", index.GetProperty("weight_map").GetProperty("layers.0.weight").GetString());
        Assert.Equal("model-00003-of-00003.safetensors", index.GetProperty("weight_map").GetProperty("layers.5.weight").GetString());
        Assert.False(File.Exists(dir["model.safetensors"]));
        using var source = WeightSource.Open(dir.Path);
        Assert.Equal(6, source.Names.Count);
        using var t = source.Read("layers.4.weight");
        Assert.Equal(4f, t.mean().item<float>());
    }

    [Fact]
    public void ReadInto_converts_dtype_and_checks_shape()
    {
        using var source = WeightSource.Open(TestAssets.Reference("qwen2_tied", "model"));
        using var expected = source.Read("model.norm.weight");
        using var bf16 = empty(64, dtype: ScalarType.BFloat16);
        source.ReadInto("model.norm.weight", bf16);
        Assert.True(bf16.to(ScalarType.Float32).allclose(expected, rtol: 1e-2, atol: 1e-2));
        using var wrong = empty(32);
        var error = Assert.Throws<InvalidDataException>(() => source.ReadInto("model.norm.weight", wrong));
        Assert.Contains("model.norm.weight", error.Message);
        Assert.Contains("[64]", error.Message);
    }

    [Fact]
    public void Truncated_or_garbage_files_are_refused_with_the_file_named()
    {
        using var dir = new TempDir();
        var good = File.ReadAllBytes(TestAssets.Reference("qwen2_tied", "model", "model.safetensors"));
        var truncated = dir["truncated.safetensors"];
        File.WriteAllBytes(truncated, good[..(good.Length / 2)]);
        var e1 = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(truncated));
        Assert.Contains("truncated.safetensors", e1.Message);
        Assert.Contains("outside", e1.Message);

        var garbage = dir["garbage.safetensors"];
        File.WriteAllBytes(garbage, [16, 0, 0, 0, 0, 0, 0, 0, .. "not json at all!"u8.ToArray()]);
        var e2 = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(garbage));
        Assert.Contains("not valid JSON", e2.Message);
    }

    [Fact]
    public void A_missing_shard_or_missing_weights_are_named()
    {
        using var dir = new TempDir();
        foreach (var f in Directory.GetFiles(TestAssets.Reference("qwen2_untied_sharded", "model")))
            File.Copy(f, dir[Path.GetFileName(f)]);
        File.Delete(dir["model-00003-of-00004.safetensors"]);
        var e = Assert.Throws<FileNotFoundException>(() => WeightSource.Open(dir.Path));
        Assert.Contains("model-00003-of-00004.safetensors", e.Message);

        using var empty = new TempDir();
        File.WriteAllText(empty["config.json"], "{}");
        var e2 = Assert.Throws<FileNotFoundException>(() => WeightSource.Open(empty.Path));
        Assert.Contains("model.safetensors", e2.Message);
        Assert.Contains("config.json", e2.Message);
    }
}
