using System.Buffers;

namespace Sft.Training.Tokenization;

/// <summary>
/// Finds added tokens in text the way Hugging Face's <c>AddedVocabulary</c> does: scanning left to right, the
/// leftmost match wins and among matches at one position the longest; a <c>single_word</c> token next to a word
/// character does not match; <c>lstrip</c>/<c>rstrip</c> take the adjacent whitespace into the match.
/// </summary>
public sealed class AddedTokenSplitter
{
    readonly SearchValues<char> _firstChars;
    readonly Dictionary<char, AddedToken[]> _byFirstChar;   // longest first

    public bool IsEmpty => _byFirstChar.Count == 0;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    /// <summary>A piece of the text: either plain text [Start, Start+Length) or an added token.</summary>
    public readonly record struct Piece(int Start, int Length, AddedToken? Token);

    /// <summary>Appends the pieces of <paramref name="text"/> in order; plain pieces are never empty.</summary>
    public void Split(ReadOnlySpan<char> text, List<Piece> pieces)
    {
        var plainStart = 0;
        var searchFrom = 0;
        while (searchFrom < text.Length)
        {
            var found = text[searchFrom..].IndexOfAny(_firstChars);
            if (found < 0) break;
            var at = searchFrom + found;
            var token = MatchAt(text, at);
            if (token is null) { searchFrom = at + 1; continue; }

            var start = at;
            var stop = at + token.Content.Length;
            if (token.LStrip) while (start > plainStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip) while (stop < text.Length && char.IsWhiteSpace(text[stop])) stop++;
            if (start > plainStart) pieces.Add(new Piece(plainStart, start - plainStart, null));
            pieces.Add(new Piece(start, stop - start, token));
            plainStart = searchFrom = stop;
        }
        if (plainStart < text.Length) pieces.Add(new Piece(plainStart, text.Length - plainStart, null));
    }

    AddedToken? MatchAt(ReadOnlySpan<char> text, int at)
    {
        foreach (var token in _byFirstChar[text[at]])
        {
            if (!text[at..].StartsWith(token.Content, StringComparison.Ordinal)) continue;
            if (token.SingleWord && !IsSingleWord(text, at, at + token.Content.Length)) continue;
            return token;
        }
        return null;
    }

    static bool IsSingleWord(ReadOnlySpan<char> text, int start, int stop) =>
        (start == 0 || !IsWordChar(text[start - 1])) && (stop == text.Length || !IsWordChar(text[stop]));

    static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
