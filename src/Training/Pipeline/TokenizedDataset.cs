using System.Diagnostics;
using Sft.Data.Datasets;

namespace Sft.Training.Pipeline;

/// <summary>
/// What preparing a dataset did: rows in, samples kept, how many were truncated or dropped for length, and how many
/// were dropped because nothing in them is trained (no assistant reply left, e.g. after truncation).
/// </summary>
public sealed record PreparationReport(
    int Rows, int Samples, int Truncated, int DroppedTooLong, int DroppedNoTrainableTokens,
    long Tokens, long LossTokens, TimeSpan Elapsed);

/// <summary>A dataset encoded, limited to the sequence length and ready for batching (order as in the source).</summary>
public sealed class TokenizedDataset
{
    public IReadOnlyList<EncodedSample> Samples { get; }
    public PreparationReport Report { get; }

    TokenizedDataset(IReadOnlyList<EncodedSample> samples, PreparationReport report) { Samples = samples; Report = report; }

    /// <summary>Encodes every row in parallel (order kept) and applies the limit.</summary>
    public static TokenizedDataset Prepare(IReadOnlyList<DatasetExample> examples, ConversationEncoder encoder, SequenceLimit limit,
        int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default) =>
        Prepare(examples, encoder.Encode, limit, maxDegreeOfParallelism, cancellationToken);

    /// <summary>Like the encoder overload, with any row-to-sample function (e.g. pre-tokenized rows without a tokenizer).</summary>
    public static TokenizedDataset Prepare(IReadOnlyList<DatasetExample> examples, Func<DatasetExample, EncodedSample> encode, SequenceLimit limit,
        int maxDegreeOfParallelism = -1, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var encoded = new EncodedSample?[examples.Count];
        var outcomes = new LimitOutcome[examples.Count];
        ParallelRows.For(examples.Count, i => encoded[i] = limit.Apply(encode(examples[i]), out outcomes[i]),
            maxDegreeOfParallelism, cancellationToken);

        var samples = new List<EncodedSample>(examples.Count);
        int truncated = 0, droppedLong = 0, droppedEmpty = 0;
        long tokens = 0, lossTokens = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            if (outcomes[i] == LimitOutcome.Truncated) truncated++;
            if (encoded[i] is not { } s) { droppedLong++; continue; }
            var loss = s.LossTokens;
            if (loss == 0) { droppedEmpty++; continue; }
            samples.Add(s);
            tokens += s.Length;
            lossTokens += loss;
        }
        var report = new PreparationReport(examples.Count, samples.Count, truncated, droppedLong, droppedEmpty, tokens, lossTokens, clock.Elapsed);
        return new TokenizedDataset(samples, report);
    }
}
