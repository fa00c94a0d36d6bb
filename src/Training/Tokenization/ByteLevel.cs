namespace Sft.Training.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ character map of byte-level BPE (<c>bytes_to_unicode</c>): printable Latin-1 bytes
/// stand for themselves, the other 68 bytes for U+0100 onwards (space is 'Ġ', newline 'Ċ').
/// </summary>
public static class ByteLevel
{
    static readonly char[] ByteToChar = BuildByteToChar();
    static readonly Dictionary<char, byte> CharToByte = Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    public static char ToChar(byte b) => ByteToChar[b];

    /// <summary>The bytes a vocabulary entry stands for; null when it has a character outside the map.</summary>
    public static byte[]? ToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out var b)) return null;
            bytes[i] = b;
        }
        return bytes;
    }

    /// <summary>The byte-level spelling of UTF-8 text (what the vocabulary keys look like).</summary>
    public static string FromText(ReadOnlySpan<char> text)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(text.ToArray());
        return string.Create(utf8.Length, utf8, static (span, bytes) =>
        {
            for (var i = 0; i < bytes.Length; i++) span[i] = ByteToChar[bytes[i]];
        });
    }
}
