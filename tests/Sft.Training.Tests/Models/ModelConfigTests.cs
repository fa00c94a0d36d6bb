using System.Text.Json.Nodes;
using Sft.Training.Models;

namespace Sft.Training.Tests.Models;

public class ModelConfigTests
{
    static JsonObject Qwen05B() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(TestAssets.Root, "configs", "qwen2.5-0.5b.config.json")))!;

    static JsonObject Llama1B() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(TestAssets.Root, "configs", "llama-3.2-1b.config.json")))!;

    static string ErrorOf(JsonObject json) =>
        Assert.Throws<InvalidDataException>(() => ModelConfig.Parse(json.ToJsonString(), "x/config.json")).Message;

    [Fact]
    public void Reads_qwen_and_llama_configs()
    {
        var qwen = ModelConfig.Parse(Qwen05B().ToJsonString());
        Assert.Equal(("qwen2", 896L, 24, 14, 2, 64L), (qwen.ModelType, qwen.HiddenSize, qwen.NumHiddenLayers, qwen.NumAttentionHeads, qwen.NumKeyValueHeads, qwen.HeadDim));
        Assert.True(qwen.QkvBias && !qwen.OutputBias && !qwen.MlpBias && qwen.TieWordEmbeddings);
        Assert.Equal(1e6, qwen.RopeTheta);
        Assert.Null(qwen.RopeScaling);
        Assert.Equal("bfloat16", qwen.TorchDtype);

        var llama = ModelConfig.Parse(Llama1B().ToJsonString());
        Assert.False(llama.QkvBias);
        Assert.Equal(new RopeScaling("llama3", 32, 1, 4, 8192), llama.RopeScaling);
        Assert.Equal([128001L], llama.EosTokenIds);
    }

    [Fact]
    public void Unsupported_settings_are_refused_with_the_key_named()
    {
        var yarn = Qwen05B();
        yarn["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 };
        Assert.Contains("'rope_scaling.rope_type' is \"yarn\"", ErrorOf(yarn));

        var dynamic = Qwen05B();
        dynamic["rope_scaling"] = new JsonObject { ["type"] = "dynamic", ["factor"] = 2.0 };
        Assert.Contains("rope_scaling.rope_type", ErrorOf(dynamic));

        var sliding = Qwen05B();
        sliding["use_sliding_window"] = true;
        Assert.Contains("'use_sliding_window'", ErrorOf(sliding));

        var gelu = Qwen05B();
        gelu["hidden_act"] = "gelu";
        Assert.Contains("'hidden_act'", ErrorOf(gelu));

        var mistral = Qwen05B();
        mistral["model_type"] = "mistral";
        Assert.Contains("'model_type' is \"mistral\"", ErrorOf(mistral));
    }

    [Fact]
    public void Bad_values_name_the_key_and_the_file()
    {
        var missing = Qwen05B();
        missing.Remove("hidden_size");
        var message = ErrorOf(missing);
        Assert.Contains("x/config.json", message);
        Assert.Contains("'hidden_size' is missing", message);

        var negative = Qwen05B();
        negative["intermediate_size"] = -5;
        Assert.Contains("'intermediate_size' must be a positive integer", ErrorOf(negative));

        var heads = Qwen05B();
        heads["num_key_value_heads"] = 3;
        Assert.Contains("'num_key_value_heads' (3) must divide num_attention_heads (14)", ErrorOf(heads));

        var text = Qwen05B();
        text["rope_theta"] = "big";
        Assert.Contains("'rope_theta' must be a number", ErrorOf(text));

        var llama = Llama1B();
        ((JsonObject)llama["rope_scaling"]!).Remove("original_max_position_embeddings");
        Assert.Contains("'rope_scaling.original_max_position_embeddings' is missing", ErrorOf(llama));

        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => ModelConfig.Parse("{", "c.json")).Message);
    }

    [Fact]
    public void Llama3_scaling_keeps_high_frequencies_and_divides_low_ones()
    {
        var config = ModelConfig.Parse(Llama1B().ToJsonString());
        var plain = config with { RopeScaling = null };
        var scaled = RotaryEmbedding.InverseFrequencies(config).data<float>().ToArray();
        var unscaled = RotaryEmbedding.InverseFrequencies(plain).data<float>().ToArray();
        Assert.Equal(32, scaled.Length);
        for (var i = 0; i < scaled.Length; i++)
        {
            var wavelen = 2 * Math.PI / unscaled[i];
            if (wavelen < 8192 / 4.0) Assert.Equal(unscaled[i], scaled[i]);                       // high frequency: kept
            else if (wavelen > 8192 / 1.0) Assert.Equal(unscaled[i] / 32, scaled[i], 1e-12);       // low frequency: / factor
            else Assert.InRange(scaled[i], unscaled[i] / 32, unscaled[i]);                         // smoothed band
        }
        Assert.Equal(1f, scaled[0]);
        Assert.True(scaled.Zip(scaled.Skip(1)).All(p => p.First > p.Second), "inv_freq stays decreasing");

        var linear = plain with { RopeScaling = new RopeScaling("linear", 4) };
        var quartered = RotaryEmbedding.InverseFrequencies(linear).data<float>().ToArray();
        Assert.Equal(unscaled.Select(f => f / 4), quartered);
    }

    [Fact]
    public void First_layers_and_dtype_are_written_back_to_the_json()
    {
        var config = ModelConfig.Parse(Qwen05B().ToJsonString()).WithLayers(4).WithTorchDtype(TorchSharp.torch.ScalarType.Float32);
        var json = JsonNode.Parse(config.ToJson())!;
        Assert.Equal(4, json["num_hidden_layers"]!.GetValue<int>());
        Assert.Equal("float32", json["torch_dtype"]!.GetValue<string>());
        Assert.Equal(32768, json["sliding_window"]!.GetValue<int>());                             // unknown keys kept
        Assert.Throws<ArgumentOutOfRangeException>(() => config.WithLayers(5));
    }
}
