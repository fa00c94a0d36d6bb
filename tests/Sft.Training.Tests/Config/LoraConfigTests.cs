using Sft.Training.Config;

namespace Sft.Training.Tests.Config;

/// <summary><c>pet_config</c>: targets in MindFormers or Hugging Face names, continuing an adapter, and what is refused.</summary>
public sealed class LoraConfigTests : IDisposable
{
    readonly TempModelFolder _model = TempModelFolder.CopyOf(TestFiles.ReferenceModel("qwen2_tied"));

    public void Dispose() => _model.Dispose();

    ConfigLoadResult Load(string petConfig) => TrainConfigLoader.Load($"""
        load_checkpoint: '{_model.Path}'
        train_dataset:
          data_loader:
            path: llm-wizard/alpaca-gpt4-data
            handler:
              - type: AlpacaInstructDataHandler
                seq_length: 64
        lr_schedule:
          learning_rate: 1.e-4
        model:
          model_config:
            pet_config:
              pet_type: lora
        {string.Join('\n', petConfig.Split('\n').Select(l => "      " + l))}
        """, new ConfigLoadOptions { SourceName = "lora.yaml" });

    static ConfigIssue Error(ConfigLoadResult result, string key) =>
        Assert.Single(result.Validation.Errors, e => e.Path == "model.model_config.pet_config." + key);

    [Fact]
    public void ListsOfMindFormersNamesMapToTheMlpProjections()
    {
        var result = Load("target_modules: [w1, w2, w3]\nlora_rank: 2");

        Assert.True(result.IsValid, result.Validation.Format());
        var targets = result.Config!.Lora!.Settings.Targets;
        Assert.Equal("gate_proj, down_proj, up_proj", targets.Describe());
        Assert.Equal(["model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj"],
            LinearModules.Adaptable(result.Config.Model.Architecture!).Select(m => m.Name).Where(targets.Matches).Take(3));
        // 3 projections × 2 layers, each r·(64 + 128) with r = 2.
        Assert.Equal(6 * 2 * (64 + 128), result.Validation.Memory!.TrainableParameters);
    }

    [Fact]
    public void TheDefaultsAreMindFormersAndPeft()
    {
        var result = Load("");

        Assert.True(result.IsValid, result.Validation.Format());
        var s = result.Config!.Lora!.Settings;
        Assert.Equal((8, 16.0, 0.01, false, "q_proj, v_proj"), (s.Rank, s.Alpha, s.Dropout, s.UseRsLora, s.Targets.Describe()));
        Assert.Equal(2.0, s.Scaling);
    }

    [Fact]
    public void ARegexMustMatchWholeModuleNames()
    {
        var error = Error(Load("target_modules: 'q_proj'"), "target_modules");

        Assert.Equal("'q_proj' matches none of the model's projections (e.g. model.layers.0.self_attn.q_proj).", error.Message);
        Assert.Equal((14, 23), (error.Line, error.Column));
    }

    [Fact]
    public void LmHeadAndBrokenRegexesAreRefused()
    {
        Assert.Contains("selects lm_head or the embedding", Error(Load("target_modules: [q_proj, lm_head]"), "target_modules").Message);
        Assert.Contains("is not a valid regular expression", Error(Load("target_modules: '.*wq|(['"), "target_modules").Message);
        Assert.Equal("the list is empty.", Error(Load("target_modules: []"), "target_modules").Message);
    }

    [Fact]
    public void UnsupportedMindFormersOptionsAreRefused()
    {
        Assert.Equal("exclude_layers is not supported.", Error(Load("exclude_layers: '.*layers\\.0\\..*'"), "exclude_layers").Message);
        Assert.StartsWith("not supported: with LoRA every base weight is frozen", Error(Load("freeze_exclude: ['*embedding*']"), "freeze_exclude").Message);
        var ignored = Load("freeze_include: []\nlora_a_init: normal").Validation.Ignored.Select(i => i.Path).ToList();
        Assert.Equal(["model.model_config.pet_config.freeze_include", "model.model_config.pet_config.lora_a_init"], ignored);
    }

    [Fact]
    public void AnAdapterIsContinuedWithItsOwnShape()
    {
        var adapter = TestAssets.Reference("qwen2_tied", "lora_init");

        var result = Load($"adapter_path: '{adapter}'\nlora_dropout: 0.1");

        Assert.True(result.IsValid, result.Validation.Format());
        var lora = result.Config!.Lora!;
        Assert.Equal(adapter, lora.AdapterPath);
        Assert.Equal((4, 8.0, 0.1), (lora.Settings.Rank, lora.Settings.Alpha, lora.Settings.Dropout));
        Assert.Equal("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj", lora.Settings.Targets.Describe());
    }

    [Fact]
    public void AnAdapterWhoseShapeDisagreesWithPetConfigIsAnError()
    {
        var adapter = TestAssets.Reference("qwen2_tied", "lora_init");

        var result = Load($"adapter_path: '{adapter}'\nlora_rank: 16\ntarget_modules: [q_proj]");

        Assert.Equal("16 differs from the adapter's 4 (" + adapter + ").", Error(result, "lora_rank").Message);
        Assert.Contains("differs from the adapter's 'q_proj, k_proj", Error(result, "target_modules").Message);
        Assert.Contains("is not a PEFT adapter folder", Error(Load($"adapter_path: '{_model.Path}'"), "adapter_path").Message);
    }
}
