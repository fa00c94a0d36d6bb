using System.Text;

namespace Sft.Training.Tokenization;

/// <summary>
/// Decodes a growing sequence of ids for generation: <see cref="Push"/> returns the text completed by each id and
/// holds back the bytes of a character that is not complete yet (an emoji or CJK character spans several tokens).
/// The concatenation of every <see cref="Push"/> and <see cref="Flush"/> equals <see cref="HfTokenizer.Decode"/> of
/// all ids. Not thread-safe: one per generated sequence.
/// </summary>
public sealed class StreamingDecoder
{
    readonly HfTokenizer _tokenizer;
    readonly bool _skipSpecialTokens;
    readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    char[] _chars = new char[64];

    internal StreamingDecoder(HfTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>The text that <paramref name="id"/> completes (empty while a character is still incomplete).</summary>
    public string Push(int id)
    {
        var bytes = _tokenizer.BytesOf(id, _skipSpecialTokens);
        return bytes is null ? "" : DecodeBytes(bytes, flush: false);
    }

    /// <summary>Ends the sequence: bytes of an unfinished character come out as U+FFFD.</summary>
    public string Flush() => DecodeBytes([], flush: true);

    string DecodeBytes(byte[] bytes, bool flush)
    {
        var needed = _utf8.GetCharCount(bytes, flush);
        if (needed > _chars.Length) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        var written = _utf8.GetChars(bytes, 0, bytes.Length, _chars, 0, flush);
        return new string(_chars, 0, written);
    }
}
