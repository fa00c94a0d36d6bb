using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Sft.Training.Tokenization;

/// <summary>
/// The pre-tokenizer regex of Qwen2/Qwen3 and Llama 3 (the "GPT-4" family), scanned by hand over code points:
/// <code>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</code>
/// with D = 1 (Qwen) or 3 (Llama 3). Hugging Face runs this pattern with Oniguruma over code points; .NET's
/// <see cref="System.Text.RegularExpressions.Regex"/> sees UTF-16 units, so an astral letter such as 𝐀 or 𠀀 is not
/// <c>\p{L}</c> there and the split differs. This scanner takes each alternative in order as the regex engine would,
/// with the backtracking outcomes written out (see <see cref="Next"/>), and is several times faster than the regex.
/// </summary>
public sealed class SplitPreTokenizer : PreTokenizer
{
    /// <summary>Qwen2 / Qwen2.5 / Qwen3 (tokenizer.json Split pattern and Qwen2Tokenizer's PRETOKENIZE_REGEX).</summary>
    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama 3 / 3.1 / 3.2: the same with numbers in groups of up to three digits.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    readonly int _maxDigits;

    public SplitPreTokenizer(int maxDigits)
    {
        if (maxDigits < 1) throw new ArgumentOutOfRangeException(nameof(maxDigits), maxDigits, "at least one digit per number piece");
        _maxDigits = maxDigits;
    }

    /// <summary>The scanner for a known pattern, or null when the pattern is not one of the family.</summary>
    public static SplitPreTokenizer? ForPattern(string pattern) => pattern switch
    {
        QwenPattern => new SplitPreTokenizer(1),
        Llama3Pattern => new SplitPreTokenizer(3),
        _ => null,
    };

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int, int)>(text.Length / 4 + 1);
        Split(text, pieces);
        return pieces;
    }

    /// <summary>Appends the pieces (offset, length) of <paramref name="text"/> to <paramref name="pieces"/>.</summary>
    public void Split(ReadOnlySpan<char> text, List<(int Offset, int Length)> pieces)
    {
        var pos = 0;
        while (pos < text.Length)
        {
            var end = Next(text, pos);
            pieces.Add((pos, end - pos));
            pos = end;
        }
    }

    // Character classes of the pattern. Every code point is exactly one of Letter, Number, Newline (\r \n),
    // Space (other \s), Other.
    enum Cls : byte { Other, Letter, Number, Newline, Space }

    // The class of every BMP character, computed once (64 KB): the scanner's hot path is one array read.
    static readonly Cls[] Bmp = BuildBmp();

    static Cls[] BuildBmp()
    {
        var table = new Cls[0x10000];
        for (var c = 0; c < table.Length; c++) table[c] = char.IsSurrogate((char)c) ? Cls.Other : ClassifySlow(c);
        return table;
    }

    static Cls ClassifySlow(int codePoint)
    {
        if (codePoint is '\r' or '\n') return Cls.Newline;
        // Unicode White_Space, which is what both .NET's char.IsWhiteSpace and Oniguruma's \s test (all in the BMP).
        if (codePoint < 0x10000 && char.IsWhiteSpace((char)codePoint)) return Cls.Space;
        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Cls.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Cls.Number,
            _ => Cls.Other,
        };
    }

    /// <summary>Class and UTF-16 width of the code point at <paramref name="i"/> (a lone surrogate is Other, width 1).</summary>
    static Cls At(ReadOnlySpan<char> s, int i, out int width)
    {
        var c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            width = 2;
            return ClassifySlow(char.ConvertToUtf32(c, s[i + 1]));
        }
        width = 1;
        return Bmp[c];
    }

    static int SkipClass(ReadOnlySpan<char> s, int i, Cls cls)
    {
        while (i < s.Length && At(s, i, out var w) == cls) i += w;
        return i;
    }

    /// <summary>End of the piece that starts at <paramref name="pos"/>: the first alternative that matches wins.</summary>
    int Next(ReadOnlySpan<char> s, int pos)
    {
        var cls = At(s, pos, out var width);
        var next = pos + width;

        // 1. (?i:'s|'t|'re|'ve|'m|'ll|'d). Oniguruma folds case over Unicode: 'ſ' (U+017F) matches 's'.
        if (s[pos] == '\'' && next < s.Length)
        {
            var a = char.ToLowerInvariant(s[next]);
            if (a is 's' or 't' or 'm' or 'd' or 'ſ') return next + 1;
            if (next + 1 < s.Length)
            {
                var b = char.ToLowerInvariant(s[next + 1]);
                if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return next + 2;
            }
        }

        // 2. [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls == Cls.Letter) return SkipClass(s, next, Cls.Letter);
        if (cls is Cls.Other or Cls.Space && next < s.Length && At(s, next, out _) == Cls.Letter)
            return SkipClass(s, next, Cls.Letter);

        // 3. \p{N}{1,D}
        if (cls == Cls.Number)
        {
            var end = next;
            for (var n = 1; n < _maxDigits && end < s.Length && At(s, end, out var w) == Cls.Number; n++) end += w;
            return end;
        }

        // 4. " ?[^\s\p{L}\p{N}]+[\r\n]*"
        var runStart = cls == Cls.Other ? pos
            : s[pos] == ' ' && next < s.Length && At(s, next, out _) == Cls.Other ? next
            : -1;
        if (runStart >= 0)
        {
            var end = SkipClass(s, runStart, Cls.Other);
            return SkipClass(s, end, Cls.Newline);
        }

        // Only whitespace is left (cls is Space or Newline). W = the maximal whitespace run from pos (all BMP).
        var wsEnd = pos;
        var lastNewline = -1;
        while (wsEnd < s.Length && At(s, wsEnd, out _) is Cls.Space or Cls.Newline)
        {
            if (s[wsEnd] is '\r' or '\n') lastNewline = wsEnd;
            wsEnd++;
        }

        // 5. \s*[\r\n]+ : \s* backtracks from the end of W to its last newline, and [\r\n]+ takes that one.
        if (lastNewline >= 0) return lastNewline + 1;
        // 6. \s+(?!\S) : all of W at the end of the text, else W less its last character (if that leaves one).
        if (wsEnd == s.Length) return wsEnd;
        if (wsEnd - pos >= 2) return wsEnd - 1;
        // 7. \s+ : the single whitespace character before a non-space.
        return wsEnd;
    }
}
