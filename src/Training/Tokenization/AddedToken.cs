namespace Sft.Training.Tokenization;

/// <summary>
/// A token matched in the raw text before BPE (tokenizer.json <c>added_tokens</c>). <paramref name="Special"/> ones
/// are dropped by <c>Decode(skipSpecialTokens: true)</c>. <paramref name="Normalized"/> ones are matched after
/// normalisation, the others before it. <paramref name="LStrip"/>/<paramref name="RStrip"/> absorb the whitespace
/// on that side; <paramref name="SingleWord"/> matches only between non-word characters.
/// </summary>
public sealed record AddedToken(
    int Id, string Content, bool Special,
    bool Normalized = false, bool LStrip = false, bool RStrip = false, bool SingleWord = false);
