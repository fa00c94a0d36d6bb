using Sft.Training.Tokenization;

namespace Sft.Training.Tests.Tokenization;

public class StreamingDecoderTests
{
    static readonly HfTokenizer Qwen = BuiltInTokenizers.LoadQwen();

    [Theory]
    [InlineData("I ❤️ you 😍😍 你好，世界！𠀀𠀁 👨‍👩‍👧‍👦")]
    [InlineData("<|im_start|>assistant\nDone. 🎉<|im_end|>")]
    [InlineData("plain ascii only")]
    public void Chunks_never_split_a_character_and_add_up_to_the_full_decode(string text)
    {
        var ids = Qwen.Encode(text);
        var decoder = Qwen.CreateStreamingDecoder(skipSpecialTokens: false);
        var chunks = ids.Select(decoder.Push).ToList();
        chunks.Add(decoder.Flush());
        Assert.DoesNotContain(chunks, c => c.Contains('\uFFFD'));
        Assert.All(chunks, c => Assert.False(c.Length > 0 && char.IsHighSurrogate(c[^1]), "chunk ends inside a surrogate pair"));
        Assert.Equal(Qwen.Decode(ids), string.Concat(chunks));
        Assert.Equal(text, string.Concat(chunks));
    }

    [Fact]
    public void A_token_ending_mid_character_is_held_back_until_the_rest_arrives()
    {
        var ids = Qwen.Encode("𠀀");   // CJK Extension B: 4 UTF-8 bytes in three tokens
        Assert.True(ids.Length > 1);
        var decoder = Qwen.CreateStreamingDecoder();
        for (var i = 0; i < ids.Length - 1; i++) Assert.Equal("", decoder.Push(ids[i]));
        Assert.Equal("𠀀", decoder.Push(ids[^1]));
    }

    [Fact]
    public void Flushing_an_unfinished_character_gives_the_replacement_character_like_decode()
    {
        var ids = Qwen.Encode("𠀀");
        var decoder = Qwen.CreateStreamingDecoder();
        Assert.Equal("", decoder.Push(ids[0]));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal("\uFFFD", Qwen.Decode(ids.AsSpan(0, 1)));
    }

    [Fact]
    public void Special_tokens_are_skipped_when_asked()
    {
        var decoder = Qwen.CreateStreamingDecoder(skipSpecialTokens: true);
        var text = string.Concat(Qwen.Encode("Hi<|im_end|>").Select(decoder.Push)) + decoder.Flush();
        Assert.Equal("Hi", text);
    }
}
