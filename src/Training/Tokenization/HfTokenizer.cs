using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Sft.Training.Tokenization;

/// <summary>
/// The ids the trainer and generation need. <paramref name="Pad"/> falls back to EOS when the tokenizer has none;
/// <paramref name="StopIds"/> is EOS plus the end-of-turn tokens the vocabulary has (<c>&lt;|im_end|&gt;</c>,
/// <c>&lt;|endoftext|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, ...), so generation stops on any of them.
/// </summary>
public sealed record SpecialTokenIds(int Eos, int Pad, int? Bos, int? Unk, IReadOnlyList<int> StopIds);

/// <summary>
/// A Hugging Face byte-level BPE tokenizer with the same ids as the <c>tokenizers</c> library: added tokens are
/// matched first on the raw text, each remaining piece is NFC-normalised (when the tokenizer says so), split by the
/// pre-tokenizer pattern and each piece encoded by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> (merges), with
/// the ids of frequent pieces kept in a bounded cache. Thread-safe.
/// </summary>
public sealed partial class HfTokenizer
{
    const int MaxCachedPieces = 250_000, MaxCachedPieceLength = 48;
    readonly BpeTokenizer _bpe;
    readonly PreTokenizer _preTokenizer;
    readonly bool _nfc, _ignoreMerges;
    readonly Dictionary<string, int> _vocab;
    readonly AddedTokenSplitter _rawSplitter, _normalizedSplitter;
    readonly Dictionary<int, AddedToken> _addedById;
    readonly Dictionary<string, AddedToken> _addedByContent;
    readonly byte[]?[] _bytesOfId;
    readonly string?[] _tokenOfId;
    readonly int[] _prefix, _suffix;
    readonly ConcurrentDictionary<string, int[]> _pieceCache = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _pieceLookup;
    int _cachedPieces;   // ConcurrentDictionary.Count takes every lock; this is the cheap bound check
    [ThreadStatic] static Scratch? t_scratch;

    /// <summary>Per-thread lists reused across calls (encoding allocates only the result).</summary>
    sealed class Scratch
    {
        public readonly List<AddedTokenSplitter.Piece> Raw = [], Normalized = [];
        public readonly List<(int Offset, int Length)> Words = [];
    }

    /// <summary>Where it was loaded from, for messages.</summary>
    public string Source { get; }
    /// <summary>One more than the largest id (BPE vocabulary and added tokens).</summary>
    public int VocabSize => _bytesOfId.Length;
    public SpecialTokenIds Special { get; }
    public string EosToken { get; }
    public string PadToken { get; }
    public string? BosToken { get; }
    public IReadOnlyCollection<AddedToken> AddedTokens => _addedById.Values;
    /// <summary>The Jinja chat template of tokenizer_config.json, used to detect the prompt template.</summary>
    public string? ChatTemplate { get; }

    static readonly string[] EndOfTurnTokens = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "</s>"];
    static readonly string[] EosFallbacks = ["<|endoftext|>", "<|end_of_text|>", "</s>"];

    internal HfTokenizer(TokenizerModel model, TokenizerConfig config)
    {
        Source = model.Source;
        _vocab = model.Vocab;
        _nfc = model.Nfc;
        _ignoreMerges = model.IgnoreMerges;
        _preTokenizer = model.PreTokenizer;
        _prefix = model.Prefix;
        _suffix = model.Suffix;

        // tokenizer.json added_tokens win; tokenizer_config.json's table fills in (vocab.json + merges.txt tokenizers).
        _addedById = new Dictionary<int, AddedToken>();
        foreach (var t in config.AddedTokens.Concat(model.AddedTokens)) _addedById[t.Id] = t;
        _addedByContent = _addedById.Values.GroupBy(t => t.Content, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        _rawSplitter = new AddedTokenSplitter(_addedById.Values.Where(t => !t.Normalized || !_nfc));
        _normalizedSplitter = new AddedTokenSplitter(_addedById.Values.Where(t => t.Normalized && _nfc));

        _pieceLookup = _pieceCache.GetAlternateLookup<ReadOnlySpan<char>>();
        _bpe = BpeTokenizer.Create(new BpeOptions(model.Vocab)
        {
            Merges = model.Merges,
            ByteLevel = true,
            PreTokenizer = model.PreTokenizer,
        });

        var size = Math.Max(model.Vocab.Count == 0 ? 0 : model.Vocab.Values.Max() + 1, _addedById.Count == 0 ? 0 : _addedById.Keys.Max() + 1);
        _bytesOfId = new byte[]?[size];
        _tokenOfId = new string?[size];
        foreach (var (token, id) in model.Vocab)
        {
            _bytesOfId[id] = ByteLevel.ToBytes(token) ?? Encoding.UTF8.GetBytes(token);
            _tokenOfId[id] = token;
        }
        foreach (var t in _addedById.Values)
        {
            _bytesOfId[t.Id] = Encoding.UTF8.GetBytes(t.Content);
            _tokenOfId[t.Id] = t.Content;
        }

        ChatTemplate = config.ChatTemplate;
        EosToken = config.EosToken ?? EosFallbacks.FirstOrDefault(t => TokenToId(t) is not null)
            ?? throw new InvalidDataException($"{Source}: no EOS token. Set \"eos_token\" in tokenizer_config.json (or eos_token in the tokenizer block).");
        PadToken = config.PadToken ?? EosToken;
        BosToken = config.BosToken;
        var eos = RequireId(EosToken, "eos_token");
        var stops = new List<int> { eos };
        foreach (var t in EndOfTurnTokens)
            if (_addedByContent.TryGetValue(t, out var a) && !stops.Contains(a.Id)) stops.Add(a.Id);
        Special = new SpecialTokenIds(eos, RequireId(PadToken, "pad_token"),
            BosToken is null ? null : RequireId(BosToken, "bos_token"),
            config.UnkToken is null ? null : TokenToId(config.UnkToken), stops);
    }

    int RequireId(string token, string field) => TokenToId(token)
        ?? throw new InvalidDataException($"{Source}: {field} \"{token}\" is neither an added token nor in the vocabulary.");

    // ---- encoding ----

    /// <summary>The ids of <paramref name="text"/>; <paramref name="addSpecialTokens"/> adds what the post-processor
    /// adds (Llama 3's BOS; nothing for Qwen). Chat templates write their special tokens as text instead.</summary>
    public int[] Encode(string text, bool addSpecialTokens = false)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text.AsSpan(), ids, addSpecialTokens);
        return ids.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, bool addSpecialTokens = false)
    {
        if (addSpecialTokens) ids.AddRange(_prefix);
        if (_rawSplitter.IsEmpty) EncodeNormalizing(text, ids);
        else
        {
            var pieces = (t_scratch ??= new Scratch()).Raw;
            pieces.Clear();
            _rawSplitter.Split(text, pieces);
            foreach (var p in pieces)
            {
                if (p.Token is { } token) ids.Add(token.Id);
                else EncodeNormalizing(text.Slice(p.Start, p.Length), ids);
            }
        }
        if (addSpecialTokens) ids.AddRange(_suffix);
    }

    /// <summary>Encodes many texts in parallel; the result is in input order.</summary>
    public int[][] EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = false, int maxDegreeOfParallelism = -1)
    {
        var result = new int[texts.Count][];
        Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => result[i] = Encode(texts[i], addSpecialTokens));
        return result;
    }

    void EncodeNormalizing(ReadOnlySpan<char> text, List<int> ids)
    {
        if (_nfc && !text.IsNormalized(NormalizationForm.FormC)) text = text.ToString().Normalize(NormalizationForm.FormC);
        if (_normalizedSplitter.IsEmpty) { EncodePlain(text, ids); return; }
        var pieces = (t_scratch ??= new Scratch()).Normalized;
        pieces.Clear();
        _normalizedSplitter.Split(text, pieces);
        foreach (var p in pieces)
        {
            if (p.Token is { } token) ids.Add(token.Id);
            else EncodePlain(text.Slice(p.Start, p.Length), ids);
        }
    }

    void EncodePlain(ReadOnlySpan<char> text, List<int> ids)
    {
        if (_preTokenizer is SplitPreTokenizer split)
        {
            var words = (t_scratch ??= new Scratch()).Words;
            words.Clear();
            split.Split(text, words);
            foreach (var (offset, length) in words) EncodePiece(text.Slice(offset, length), ids);
        }
        else
        {
            foreach (var (offset, length) in _preTokenizer.PreTokenize(text)) EncodePiece(text.Slice(offset, length), ids);
        }
    }

    /// <summary>One pre-token: from the cache, else merged by the BPE model.</summary>
    void EncodePiece(ReadOnlySpan<char> piece, List<int> ids)
    {
        if (_pieceLookup.TryGetValue(piece, out var cached)) { ids.AddRange(cached); return; }
        int[] result;
        // ignore_merges (Llama 3): a pre-token that is itself in the vocabulary is emitted whole, without merging.
        if (_ignoreMerges && _vocab.TryGetValue(ByteLevel.FromText(piece), out var whole)) result = [whole];
        else result = [.. _bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false)];
        if (piece.Length <= MaxCachedPieceLength && Volatile.Read(ref _cachedPieces) < MaxCachedPieces && _pieceLookup.TryAdd(piece, result))
            Interlocked.Increment(ref _cachedPieces);
        ids.AddRange(result);
    }

    // ---- decoding ----

    /// <summary>The text of <paramref name="ids"/>; bytes that are not valid UTF-8 become U+FFFD, as in Hugging Face.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var buffer = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        foreach (var id in ids)
            if (BytesOf(id, skipSpecialTokens) is { } bytes) buffer.Write(bytes);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A decoder for generation that emits text token by token and never splits a UTF-8 character.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);

    /// <summary>The UTF-8 bytes of one id; null for a special token being skipped.</summary>
    internal byte[]? BytesOf(int id, bool skipSpecialTokens)
    {
        if ((uint)id >= (uint)_bytesOfId.Length || _bytesOfId[id] is not { } bytes)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is not in the vocabulary of {Source} (size {VocabSize}).");
        if (skipSpecialTokens && _addedById.TryGetValue(id, out var added) && added.Special) return null;
        return bytes;
    }

    // ---- vocabulary ----

    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var added) ? added.Id : _vocab.TryGetValue(token, out var id) ? id : null;

    /// <summary>The vocabulary entry of an id (byte-level spelling for BPE tokens, content for added ones).</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_tokenOfId.Length ? _tokenOfId[id] : null;

    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var t) && t.Special;
}
