using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>The instruct handler's <c>tokenizer</c> block (MindFormers' Qwen2Tokenizer settings), or the model folder's tokenizer.</summary>
public static class TokenizerBinder
{
    public static TokenizerSection Bind(SectionReader? block, string modelFolder, SourcePosition modelAt, BindContext ctx, bool required = true)
    {
        if (block is null)
        {
            if (required) CheckFolderTokenizer(modelFolder, "load_checkpoint", modelAt, ctx);
            return new TokenizerSection("auto", null, null, null, null, null, null, null);
        }

        var type = block.String("type") ?? "auto";
        var vocab = File(block, "vocab_file", ctx, "vocabulary file");
        var merges = File(block, "merges_file", ctx, "merges file");
        var tokenizerFile = File(block, "tokenizer_file", ctx, "tokenizer.json");
        var pad = block.String("pad_token");
        var eos = block.String("eos_token");
        var bos = block.String("bos_token");
        var unk = block.String("unk_token");
        block.Ignore("Python class registration; not needed here.", "auto_register");
        block.Ignore("the tokenizer's own settings are used.", "padding_side", "model_max_length", "add_bos_token", "add_eos_token",
            "chat_template", "errors", "clean_up_tokenization_spaces", "split_special_tokens", "use_fast");
        block.Finish();

        if ((vocab is null) != (merges is null))
        {
            var missing = vocab is null ? "vocab_file" : "merges_file";
            ctx.Issues.Error(block.KeyPath(missing), block.Position, $"{missing} is missing: a BPE tokenizer needs vocab_file and merges_file together.",
                $"add {missing}, or remove both to use the model folder's tokenizer.json.");
        }
        if (required && vocab is null && merges is null && tokenizerFile is null)
            CheckFolderTokenizer(modelFolder, block.Path, block.Position, ctx);
        return new TokenizerSection(type, vocab, merges, tokenizerFile, pad, eos, bos, unk);
    }

    static string? File(SectionReader block, string key, BindContext ctx, string what)
    {
        if (block.String(key) is not { Length: > 0 } text) return null;
        var full = ctx.FullPath(text);
        if (ctx.CheckFiles) PathChecks.FileExists(full, block.KeyPath(key), block.PositionOf(key), ctx.Issues, what);
        return full;
    }

    static void CheckFolderTokenizer(string modelFolder, string path, SourcePosition at, BindContext ctx)
    {
        if (!ctx.CheckFiles || modelFolder.Length == 0 || !Directory.Exists(modelFolder)) return;
        var hasJson = System.IO.File.Exists(Path.Combine(modelFolder, "tokenizer.json"));
        var hasBpe = System.IO.File.Exists(Path.Combine(modelFolder, "vocab.json")) && System.IO.File.Exists(Path.Combine(modelFolder, "merges.txt"));
        if (!hasJson && !hasBpe)
            ctx.Issues.Error(path, at, $"no tokenizer: '{modelFolder}' has neither tokenizer.json nor vocab.json + merges.txt.",
                "copy the tokenizer files into the model folder, or set tokenizer.vocab_file and tokenizer.merges_file in the instruct handler.");
    }
}
