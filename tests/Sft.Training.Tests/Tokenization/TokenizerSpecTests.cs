using System.IO.Compression;
using Sft.Training.Config;
using Sft.Training.Tests.Config;
using Sft.Training.Tokenization;

namespace Sft.Training.Tests.Tokenization;

/// <summary>Choosing the job's tokenizer: explicit files, the model folder, special token overrides, and from a config.</summary>
public class TokenizerSpecTests
{
    static readonly string QwenFolder = Path.GetFullPath(Path.Combine(TestAssets.Root, "..", "..", "src", "Training", "Assets", "tokenizers", "qwen"));

    /// <summary>Writes Qwen's vocab.json and merges.txt (un-gzipped) into <paramref name="folder"/>.</summary>
    static void WriteVocabMerges(string folder)
    {
        foreach (var name in new[] { "vocab.json", "merges.txt" })
        {
            using var input = new GZipStream(File.OpenRead(Path.Combine(TestAssets.Root, "tokenizers", "qwen_vocab_merges", name + ".gz")), CompressionMode.Decompress);
            using var output = File.Create(Path.Combine(folder, name));
            input.CopyTo(output);
        }
    }

    [Fact]
    public void The_model_folder_is_used_with_overrides_replacing_its_special_tokens()
    {
        var own = HfTokenizer.Load(new TokenizerSpec(Folder: QwenFolder));
        Assert.Equal(151645, own.Special.Eos);
        var overridden = HfTokenizer.Load(new TokenizerSpec(Folder: QwenFolder, Overrides: new SpecialTokenOverrides(EosToken: "<|endoftext|>")));
        Assert.Equal(151643, overridden.Special.Eos);
        Assert.Equal("<|endoftext|>", overridden.EosToken);
        Assert.Equal(own.Encode("<|im_start|>hi"), overridden.Encode("<|im_start|>hi"));
    }

    [Fact]
    public void Explicit_vocab_and_merges_are_a_Qwen2Tokenizer_with_the_folders_added_tokens()
    {
        using var dir = new TempDir();
        WriteVocabMerges(dir.Path);
        var tokenizer = HfTokenizer.Load(new TokenizerSpec(Folder: QwenFolder, VocabFile: dir["vocab.json"], MergesFile: dir["merges.txt"],
            Overrides: new SpecialTokenOverrides(PadToken: "<|endoftext|>", EosToken: "<|im_end|>")));
        Assert.Equal((151645, 151643), (tokenizer.Special.Eos, tokenizer.Special.Pad));
        Assert.Equal([151667, 87, 151668], tokenizer.Encode("<think>x</think>"));   // added tokens of the folder's config
        Assert.NotNull(tokenizer.ChatTemplate);
    }

    [Fact]
    public void Half_a_bpe_pair_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => HfTokenizer.Load(new TokenizerSpec(VocabFile: "vocab.json")));
        Assert.Contains("vocab_file and merges_file together", e.Message);
    }

    [Fact]
    public void The_guide_config_loads_its_tokenizer_block()
    {
        using var model = new TempModelFolder(TestFiles.Qwen25_7BConfig, withTokenizer: false);
        WriteVocabMerges(model.Path);
        var yaml = ExampleConfigs.Read(ExampleConfigs.Qwen25_7B).Replace("/path/to/Qwen2.5-7B", model.Path.TrimEnd('/'));
        var result = TrainConfigLoader.Load(yaml, new ConfigLoadOptions { SourceName = "finetune_qwen2_5_7b_8k.yaml" });
        Assert.True(result.IsValid, result.Validation.Format());

        var c = result.Config!;
        var tokenizer = HfTokenizer.Load(new TokenizerSpec(c.Model.Path, c.Tokenizer.TokenizerFile, c.Tokenizer.VocabFile, c.Tokenizer.MergesFile,
            new SpecialTokenOverrides(c.Tokenizer.PadToken, c.Tokenizer.EosToken, c.Tokenizer.BosToken, c.Tokenizer.UnkToken)));
        Assert.Equal(151645, tokenizer.Special.Eos);   // eos_token: "<|im_end|>"
        Assert.Equal(151643, tokenizer.Special.Pad);   // pad_token: "<|endoftext|>"
        Assert.Null(tokenizer.Special.Bos);
        Assert.Equal(QwenReference.Encodes[0].Ids, tokenizer.Encode(QwenReference.Encodes[0].Text));
    }
}
