using System.IO.Compression;
using Sft.Training.Tokenization;

namespace Sft.Training.Tests.Tokenization;

public class TokenizerLoadingTests
{
    static readonly HfTokenizer Qwen = BuiltInTokenizers.LoadQwen();
    static string VocabMerges(string file) => Path.Combine(TestAssets.Root, "tokenizers", "qwen_vocab_merges", file);
    /// <summary>The repository's copy of the built-in tokenizer: tokenizer.json.gz + tokenizer_config.json.</summary>
    static readonly string QwenFolder = Path.GetFullPath(Path.Combine(TestAssets.Root, "..", "..", "src", "Training", "Assets", "tokenizers", "qwen"));

    [Fact]
    public void Qwen_special_ids_come_from_tokenizer_config()
    {
        Assert.Equal("<|im_end|>", Qwen.EosToken);
        Assert.Equal(151645, Qwen.Special.Eos);
        Assert.Equal("<|endoftext|>", Qwen.PadToken);
        Assert.Equal(151643, Qwen.Special.Pad);
        Assert.Null(Qwen.Special.Bos);
        Assert.Equal([151645, 151643], Qwen.Special.StopIds);
        Assert.Equal(151669, Qwen.VocabSize);
        Assert.Contains("<|im_start|>", Qwen.ChatTemplate);
    }

    [Fact]
    public void Vocab_and_merges_with_the_config_match_tokenizer_json_on_every_reference_text()
    {
        var tokenizer = HfTokenizer.FromVocabAndMerges(new Qwen2TokenizerOptions(
            VocabMerges("vocab.json.gz"), VocabMerges("merges.txt.gz"),
            TokenizerConfigFile: Path.Combine(QwenFolder, "tokenizer_config.json")));
        foreach (var c in QwenReference.Encodes) Assert.Equal(c.Ids, tokenizer.Encode(c.Text));
        Assert.Equal(Qwen.VocabSize, tokenizer.VocabSize);
    }

    [Fact]
    public void Vocab_and_merges_alone_know_Qwens_three_control_tokens_as_MindFormers_does()
    {
        // The MindFormers YAML block: type Qwen2Tokenizer, vocab_file, merges_file, unk/pad/eos tokens, no bos.
        var tokenizer = HfTokenizer.FromVocabAndMerges(new Qwen2TokenizerOptions(
            VocabMerges("vocab.json.gz"), VocabMerges("merges.txt.gz"),
            UnkToken: "<|endoftext|>", BosToken: null, EosToken: "<|endoftext|>", PadToken: "<|endoftext|>"));
        Assert.Equal(151643, tokenizer.Special.Eos);
        Assert.Equal(151643, tokenizer.Special.Pad);
        Assert.Equal(151643, tokenizer.Special.Unk);
        Assert.Equal([151644, 872, 198, 6023, 151645], tokenizer.Encode("<|im_start|>user\nhi<|im_end|>"));
        Assert.Equal(151646, tokenizer.VocabSize);
        foreach (var c in QwenReference.Encodes.Where(c => !c.Ids.Any(id => id >= 151646)))
            Assert.Equal(c.Ids, tokenizer.Encode(c.Text));
    }

    [Fact]
    public void A_folder_with_vocab_and_merges_loads_with_its_config()
    {
        using var dir = new TempDir();
        foreach (var (gz, plain) in new[] { ("vocab.json.gz", "vocab.json"), ("merges.txt.gz", "merges.txt") })
        {
            using var input = new GZipStream(File.OpenRead(VocabMerges(gz)), CompressionMode.Decompress);
            using var output = File.Create(dir[plain]);
            input.CopyTo(output);
        }
        File.Copy(Path.Combine(QwenFolder, "tokenizer_config.json"), dir["tokenizer_config.json"]);
        var tokenizer = HfTokenizer.FromDirectory(dir.Path);
        Assert.Equal(151645, tokenizer.Special.Eos);
        Assert.Equal([151667, 87, 151668], tokenizer.Encode("<think>x</think>"));
    }

    [Fact]
    public void A_folder_with_a_gzipped_tokenizer_json_loads_like_the_built_in_one()
    {
        var tokenizer = HfTokenizer.FromDirectory(QwenFolder);
        Assert.Equal(Qwen.Special, tokenizer.Special with { StopIds = Qwen.Special.StopIds });
        Assert.Equal(Qwen.Special.StopIds, tokenizer.Special.StopIds);
        Assert.Equal(Qwen.ChatTemplate, tokenizer.ChatTemplate);
        foreach (var c in QwenReference.Encodes.Take(500)) Assert.Equal(c.Ids, tokenizer.Encode(c.Text));
    }

    [Fact]
    public void Built_in_tokenizers_are_listed_and_an_unknown_name_lists_them()
    {
        Assert.Equal(["qwen"], BuiltInTokenizers.Names);
        var e = Assert.Throws<ArgumentException>(() => BuiltInTokenizers.Create("gpt2"));
        Assert.Contains("qwen", e.Message);
    }

    [Fact]
    public void A_folder_without_tokenizer_files_is_refused_with_what_was_found()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["config.json"], "{}");
        var e = Assert.Throws<FileNotFoundException>(() => HfTokenizer.FromDirectory(dir.Path));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void A_non_BPE_tokenizer_json_is_refused_naming_the_field()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["tokenizer.json"], """{"model": {"type": "Unigram", "vocab": []}}""");
        var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.FromDirectory(dir.Path));
        Assert.Contains("model.type", e.Message);
        Assert.Contains("Unigram", e.Message);
    }

    [Fact]
    public void A_bad_merges_line_is_reported_with_its_line_number()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["vocab.json"], """{"a": 0, "b": 1, "ab": 2}""");
        File.WriteAllText(dir["merges.txt"], "#version: 0.2\na b\nab\n");
        var e = Assert.Throws<InvalidDataException>(() => HfTokenizer.FromDirectory(dir.Path));
        Assert.Contains("merges.txt:3", e.Message);
    }

    [Fact]
    public void Decoding_an_unknown_id_names_it_and_the_vocabulary_size()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Qwen.Decode([9707, 999_999]));
        Assert.Contains("999999", e.Message);
        Assert.Contains("151669", e.Message);
    }

    [Fact]
    public void Token_lookups_cover_vocabulary_and_added_tokens()
    {
        Assert.Equal(151644, Qwen.TokenToId("<|im_start|>"));
        Assert.Equal("<|im_start|>", Qwen.IdToToken(151644));
        Assert.Equal(9707, Qwen.TokenToId("Hello"));
        Assert.Equal("ĠHello", Qwen.IdToToken(21927));
        Assert.True(Qwen.IsSpecial(151643));
        Assert.False(Qwen.IsSpecial(151667));   // <think> is an added token but not special
        Assert.Null(Qwen.TokenToId("no such token"));
    }
}
