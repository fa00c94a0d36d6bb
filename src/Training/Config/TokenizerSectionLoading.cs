using Sft.Training.Tokenization;

namespace Sft.Training.Config;

/// <summary>From a validated config to the tokenizer it names.</summary>
public static class TokenizerSectionLoading
{
    /// <summary>
    /// The job's tokenizer: the tokenizer block's files (tokenizer_file, or vocab_file + merges_file as a Qwen2Tokenizer)
    /// else the model folder's, with the block's special tokens replacing the tokenizer's own.
    /// </summary>
    public static HfTokenizer LoadTokenizer(this TrainConfig config)
    {
        var t = config.Tokenizer;
        return HfTokenizer.Load(new TokenizerSpec(
            Folder: config.Model.Path, TokenizerFile: t.TokenizerFile, VocabFile: t.VocabFile, MergesFile: t.MergesFile,
            Overrides: new SpecialTokenOverrides(t.PadToken, t.EosToken, t.BosToken, t.UnkToken)));
    }
}
