using Sft.Training.Tokenization;

namespace Sft.Training.Tests.Tokenization;

/// <summary>Pieces of the Qwen/Llama 3 pattern, as Hugging Face's pre-tokenizer (Oniguruma) splits them.</summary>
public class SplitPreTokenizerTests
{
    static string[] Pieces(string text, int maxDigits = 1)
    {
        var list = new List<(int Offset, int Length)>();
        new SplitPreTokenizer(maxDigits).Split(text, list);
        return list.Select(p => text.Substring(p.Offset, p.Length)).ToArray();
    }

    [Fact]
    public void Words_take_one_leading_non_letter() =>
        Assert.Equal(["Hello", ",", " world", "!", "\tTab", " (", "x", ")"], Pieces("Hello, world!\tTab (x)"));

    [Fact]
    public void Contractions_split_off_case_insensitively_including_long_s()
    {
        Assert.Equal(["I", "'M", " don", "'t", " they", "'LL"], Pieces("I'M don't they'LL"));
        Assert.Equal(["x", "'ſ", "x"], Pieces("x'ſx"));   // Oniguruma folds ſ to s
        Assert.Equal(["'s", "a"], Pieces("'sa"));
    }

    [Fact]
    public void Astral_letters_and_digits_are_letters_and_digits() =>
        Assert.Equal(["a𝐀b", " 𠀀𠀁", " ", "𝟏", "𝟐"], Pieces("a𝐀b 𠀀𠀁 𝟏𝟐"));

    [Fact]
    public void Numbers_are_single_digits_for_Qwen_and_groups_of_three_for_Llama3()
    {
        Assert.Equal(["1", "2", "3", "4"], Pieces("1234"));
        Assert.Equal(["123", "4"], Pieces("1234", maxDigits: 3));
    }

    [Fact]
    public void Whitespace_runs_leave_one_space_for_the_next_word_and_keep_newlines_together()
    {
        Assert.Equal(["a", "  ", " b"], Pieces("a   b"));
        Assert.Equal(["x", " \n\n", " y"], Pieces("x \n\n y"));
        Assert.Equal(["end", "   "], Pieces("end   "));
        Assert.Equal(["line", "\r\n", "next"], Pieces("line\r\nnext"));
        Assert.Equal([" ", "1"], Pieces(" 1"));
    }

    [Fact]
    public void Punctuation_runs_keep_a_leading_space_and_trailing_newlines() =>
        Assert.Equal(["x", " !!!\n\n", "y", " ...", " z"], Pieces("x !!!\n\ny ... z"));
}
