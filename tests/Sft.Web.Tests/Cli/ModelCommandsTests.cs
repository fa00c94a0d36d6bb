using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Tests;
using Sft.Web.Cli;

namespace Sft.Web.Tests.Cli;

/// <summary>The score and create-model commands, run in-process with their real arguments.</summary>
public class ModelCommandsTests
{
    static (int Code, string Out, string Err) Run(Func<string[], TextWriter, TextWriter, int> command, params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var code = command(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Both_commands_are_registered()
    {
        Assert.True(CliCommands.TryGet("score", out _));
        Assert.True(CliCommands.TryGet("create-model", out _));
    }

    [Theory]
    [InlineData("qwen2_tied")]
    [InlineData("llama")]
    public void Score_prints_the_reference_loss_and_token_losses(string fixture)
    {
        var (code, output, error) = Run(ScoreCommand.Run,
            "--model", TestAssets.Reference(fixture, "model"), "--request", TestAssets.Reference(fixture, "request.json"), "--device", "cpu");
        Assert.True(code == 0, error);
        using var actual = JsonDocument.Parse(output);
        using var expected = JsonDocument.Parse(File.ReadAllText(TestAssets.Reference(fixture, "forward.json")));
        Assert.Equal(expected.RootElement.GetProperty("num_loss_tokens").GetInt64(), actual.RootElement.GetProperty("num_loss_tokens").GetInt64());
        Assert.True(Math.Abs(expected.RootElement.GetProperty("loss").GetDouble() - actual.RootElement.GetProperty("loss").GetDouble()) < 1e-5);
        var want = expected.RootElement.GetProperty("token_loss").EnumerateArray().SelectMany(r => r.EnumerateArray()).ToArray();
        var got = actual.RootElement.GetProperty("token_loss").EnumerateArray().SelectMany(r => r.EnumerateArray()).ToArray();
        Assert.Equal(want.Length, got.Length);
        for (var i = 0; i < want.Length; i++)
        {
            Assert.Equal(want[i].ValueKind, got[i].ValueKind);
            if (want[i].ValueKind == JsonValueKind.Number) Assert.True(Math.Abs(want[i].GetDouble() - got[i].GetDouble()) < 1e-5);
        }
    }

    [Fact]
    public void Score_reports_bad_requests_and_options_clearly()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["bad.json"], """{"input_ids": [[1, 2, 3], [4, 5]]}""");
        var (code, _, error) = Run(ScoreCommand.Run, "--model", TestAssets.Reference("llama", "model"), "--request", dir["bad.json"]);
        Assert.Equal(1, code);
        Assert.Contains("\"input_ids\" row 1 has 2 entries", error);

        Assert.Contains("--request", Assert.Throws<CliUsageException>(() => Run(ScoreCommand.Run, "--model", "m")).Message);
        Assert.Contains("unknown dtype 'fp8'", Assert.Throws<CliUsageException>(() =>
            Run(ScoreCommand.Run, "--model", "m", "--request", "r", "--dtype", "fp8")).Message);
    }

    [Fact]
    public void Create_model_preset_writes_a_loadable_seeded_folder_with_the_tokenizer()
    {
        using var dir = new TempDir();
        var (code, output, error) = Run(CreateModelCommand.Run, "--preset", "demo-tiny", "--out", dir["a"], "--seed", "3");
        Assert.True(code == 0, error);
        Assert.Contains("qwen2, 2 layers", output);

        using var model = HfModelFolder.Load(dir["a"]);
        Assert.Equal(151_936, model.Config.VocabSize);
        Assert.True(model.Config.TieWordEmbeddings);
        Assert.Equal(model.Config.ParameterCount(), model.parameters().Sum(p => p.numel()));
        Assert.Equal([151645L, 151643L], model.Generation.EosTokenIds);
        using (var tokenizer = JsonDocument.Parse(File.ReadAllText(dir["a/tokenizer.json"])))
            Assert.True(tokenizer.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().Count() > 150_000);
        Assert.True(File.Exists(dir["a/tokenizer_config.json"]));

        // Same seed, same weights; another seed, other weights. Norms start at 1, embeddings ~ N(0, 0.02).
        Assert.Equal(0, Run(CreateModelCommand.Run, "--preset", "demo-tiny", "--out", dir["b"], "--seed", "3").Code);
        Assert.Equal(0, Run(CreateModelCommand.Run, "--preset", "demo-tiny", "--out", dir["c"], "--seed", "4").Code);
        Assert.Equal(File.ReadAllBytes(dir["a/model.safetensors"]), File.ReadAllBytes(dir["b/model.safetensors"]));
        Assert.NotEqual(File.ReadAllBytes(dir["a/model.safetensors"]), File.ReadAllBytes(dir["c/model.safetensors"]));
        var embedding = model.model.embed_tokens.weight;
        Assert.InRange(embedding.std().item<float>(), 0.019f, 0.021f);
        Assert.Equal(1f, model.model.norm.weight.mean().item<float>());
    }

    [Fact]
    public void Create_model_from_a_config_file_and_tokenizer_folder()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(TestAssets.Reference("llama", "model"), "config.json"), dir["config.json"]);
        var (code, _, error) = Run(CreateModelCommand.Run, "--config", dir["config.json"], "--out", dir["bare"]);
        Assert.Equal(0, code);
        Assert.Contains("no tokenizer written", error);
        using (var model = HfModelFolder.Load(dir["bare"]))
        {
            Assert.Equal("llama", model.Config.ModelType);
            Assert.Equal(0L, model.Config.PadTokenId);
            Assert.Equal(0f, model.model.embed_tokens.weight[0].abs().sum().item<float>());    // padding row starts at zero
        }

        Assert.Equal(0, Run(CreateModelCommand.Run, "--preset", "demo-tiny", "--out", dir["demo"]).Code);
        (code, _, error) = Run(CreateModelCommand.Run, "--config", dir["config.json"], "--out", dir["with-tok"], "--tokenizer", dir["demo"], "--dtype", "bfloat16");
        Assert.True(code == 0, error);
        Assert.True(File.Exists(dir["with-tok/tokenizer.json"]));
        Assert.Equal("bfloat16", HfModelFolder.ReadConfig(dir["with-tok"]).TorchDtype);
    }

    [Fact]
    public void Create_model_refuses_to_clobber_and_names_bad_input()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["out"]);
        File.WriteAllText(dir["out/keep.txt"], "x");
        Assert.Contains("--overwrite", Assert.Throws<CliUsageException>(() => Run(CreateModelCommand.Run, "--preset", "demo-tiny", "--out", dir["out"])).Message);
        Assert.Contains("Presets: demo-tiny", Assert.Throws<CliUsageException>(() => Run(CreateModelCommand.Run, "--preset", "huge", "--out", dir["x"])).Message);
        Assert.Contains("exactly one of", Assert.Throws<CliUsageException>(() => Run(CreateModelCommand.Run, "--out", dir["x"])).Message);

        File.WriteAllText(dir["bad.json"], """{"model_type": "qwen2", "hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128, "num_hidden_layers": 1}""");
        var (code, _, error) = Run(CreateModelCommand.Run, "--config", dir["bad.json"], "--out", dir["x"]);
        Assert.Equal(1, code);
        Assert.Contains("'vocab_size' is missing", error);
    }
}
