using Sft.Training.Engine;
using Sft.Training.Generation;
using Sft.Training.Lora;
using Sft.Training.Tests.Engine;

namespace Sft.Training.Tests.Generation;

/// <summary>Loading a base model, a full checkpoint and base + adapter checkpoints written by the trainer, for generation.</summary>
[Collection(nameof(SerialTorchRng))]
public class InferenceModelTests
{
    static readonly long[] Prompt = [1, 45, 300, 7, 99];
    static readonly GenerationOptions Greedy = new() { MaxNewTokens = 10, EosTokenIds = [] };

    const string Lora = """
        pet_config:
          pet_type: lora
          lora_rank: 4
          lora_alpha: 8
          lora_dropout: 0.0
          target_modules: [q_proj, v_proj, down_proj]
        """;

    /// <summary>Trains <paramref name="maxSteps"/> steps with a large learning rate so the checkpoint moves the greedy output.</summary>
    static string Train(TempDir dir, string model, string? lora)
    {
        var yaml = TrainerFixtures.Yaml(model, TrainerFixtures.RandomDataset(dir.Path, rows: 12), dir["out"], lr: 5e-2, maxSteps: 6, lora: lora);
        var result = new Trainer(TrainerFixtures.Load(yaml, dir.Path), new RecordingSink()).Run(CancellationToken.None);
        Assert.Equal(TrainingPhase.Succeeded, result.Outcome);
        return result.LastCheckpoint!;
    }

    [Fact]
    public void An_adapter_checkpoint_generates_the_same_tokens_merged_and_unmerged()
    {
        using var dir = new TempDir();
        var baseFolder = TestAssets.Reference("qwen2_tied", "model");
        var checkpoint = Train(dir, baseFolder, Lora);

        using var plain = InferenceModel.Load(new InferenceSource(baseFolder));
        using var merged = InferenceModel.Load(new InferenceSource(baseFolder, checkpoint));
        using var unmerged = InferenceModel.Load(new InferenceSource(baseFolder, checkpoint), mergeAdapter: false);

        Assert.Equal(InferenceWeights.Base, plain.Weights);
        Assert.Equal(InferenceWeights.Adapter, merged.Weights);
        Assert.Equal(6, merged.AdapterLayers);                                  // 2 layers x (q_proj, v_proj, down_proj)
        Assert.All(LoraInjector.Find(merged.Model), l => Assert.True(l.Layer.Merged));
        Assert.All(LoraInjector.Find(unmerged.Model), l => Assert.False(l.Layer.Merged));

        var fromMerged = TextGenerator.Generate(merged.Model, Prompt, Greedy);
        Assert.Equal(fromMerged, TextGenerator.Generate(unmerged.Model, Prompt, Greedy));
        Assert.NotEqual(TextGenerator.Generate(plain.Model, Prompt, Greedy), fromMerged);   // the adapter changed the model
    }

    [Fact]
    public void A_full_checkpoint_is_read_from_its_own_folder()
    {
        using var dir = new TempDir();
        var baseFolder = TestAssets.Reference("llama", "model");
        var checkpoint = Train(dir, baseFolder, lora: null);

        using var tuned = InferenceModel.Load(new InferenceSource(baseFolder, checkpoint));
        using var direct = Sft.Training.Checkpoints.HfModelFolder.Load(checkpoint);
        Assert.Equal(InferenceWeights.FullCheckpoint, tuned.Weights);
        Assert.Equal(TextGenerator.Generate(direct, Prompt, Greedy), TextGenerator.Generate(tuned.Model, Prompt, Greedy));
    }

    [Fact]
    public void Missing_folders_and_bad_adapters_name_the_file()
    {
        using var dir = new TempDir();
        var baseFolder = TestAssets.Reference("qwen2_tied", "model");

        var noBase = Assert.Throws<DirectoryNotFoundException>(() => InferenceModel.Load(new InferenceSource(dir["nope"])));
        Assert.Contains(dir["nope"], noBase.Message);

        Directory.CreateDirectory(dir["empty"]);
        var empty = Assert.Throws<FileNotFoundException>(() => InferenceModel.Load(new InferenceSource(baseFolder, dir["empty"])));
        Assert.Contains("adapter_config.json missing", empty.Message);

        Directory.CreateDirectory(dir["bad"]);
        File.WriteAllText(Path.Combine(dir["bad"], PeftAdapter.ConfigFile), "{ \"r\": 4, \"target_modules\": [\"q_proj\"], \"use_dora\": true }");
        var dora = Assert.Throws<InvalidDataException>(() => InferenceModel.Load(new InferenceSource(baseFolder, dir["bad"])));
        Assert.Contains(PeftAdapter.ConfigFile, dora.Message);
        Assert.Contains("use_dora", dora.Message);
    }

    [Fact]
    public void Text_generation_without_a_tokenizer_says_where_to_put_one()
    {
        using var model = InferenceModel.Load(new InferenceSource(TestAssets.Reference("llama", "model")));
        Assert.Null(model.Tokenizer);
        var error = Assert.Throws<FileNotFoundException>(() => model.StreamReply("hi", Greedy).ToList());
        Assert.Contains("tokenizer.json", error.Message);
    }
}
