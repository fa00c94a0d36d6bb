using Sft.Data.Datasets;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Training.Pipeline;

/// <summary>A sample with what a preview shows: the rendered text and its segments.</summary>
public sealed record RenderedSample(EncodedSample Sample, string Text, IReadOnlyList<TemplateSegment> Segments);

/// <summary>
/// Turns dataset rows into <see cref="EncodedSample"/>s: conversations through the prompt template, each segment
/// tokenized on its own; labels are the ids of trainable segments (assistant replies and their end token) and -100
/// elsewhere. <paramref name="trainOnPrompt"/> trains every segment. A turn with <c>LossWeight</c> 0 is masked
/// whatever its role (labels carry no weights, so any other weight trains the turn as usual).
/// Pre-tokenized rows pass through after validation, their labels taken as aligned with input_ids (Hugging Face
/// convention) and positions whose attention_mask is 0 dropped as the source's padding. Thread-safe.
/// </summary>
public sealed class ConversationEncoder(HfTokenizer tokenizer, PromptTemplate template, bool trainOnPrompt = false)
{
    readonly TemplateTokens _tokens = TemplateTokens.Of(tokenizer);

    public HfTokenizer Tokenizer => tokenizer;
    public PromptTemplate Template => template;
    public bool TrainOnPrompt => trainOnPrompt;

    public EncodedSample Encode(DatasetExample example) => example.Conversation is { } c
        ? Encode(c, example.Source, keepText: false).Sample
        : FromTokens(example);

    /// <summary>Like <see cref="Encode"/>, with the rendered text and segments (pre-tokenized rows: their decoded ids).</summary>
    public RenderedSample Render(DatasetExample example)
    {
        if (example.Conversation is { } c) return Encode(c, example.Source, keepText: true);
        var sample = FromTokens(example);
        return new RenderedSample(sample, tokenizer.Decode(sample.InputIds), []);
    }

    RenderedSample Encode(Conversation conversation, string source, bool keepText)
    {
        IReadOnlyList<TemplateSegment> segments;
        try { segments = template.Render(conversation, _tokens); }
        catch (TemplateException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }

        var ids = new List<int>();
        var labels = new List<int>();
        foreach (var segment in segments)
        {
            var start = ids.Count;
            tokenizer.Encode(segment.Text, ids);
            var trained = (segment.Trainable || trainOnPrompt) && !MaskedByWeight(conversation, segment.Turn);
            for (var i = start; i < ids.Count; i++) labels.Add(trained ? ids[i] : EncodedSample.IgnoreIndex);
        }
        var sample = new EncodedSample(ids.ToArray(), labels.ToArray(), source);
        return new RenderedSample(sample, keepText ? string.Concat(segments.Select(s => s.Text)) : "", keepText ? segments : []);
    }

    static bool MaskedByWeight(Conversation c, int? turn) => turn is { } i && c.Turns[i].LossWeight is 0.0;

    EncodedSample FromTokens(DatasetExample example) => FromTokens(example, tokenizer.VocabSize, trainOnPrompt);

    /// <summary>
    /// A pre-tokenized row as a sample: lengths checked, the row's own padding (attention_mask 0) removed, ids and
    /// labels checked against <paramref name="vocabSize"/>. Needs no tokenizer, so token datasets train on models
    /// that ship none.
    /// </summary>
    public static EncodedSample FromTokens(DatasetExample example, int vocabSize, bool trainOnPrompt)
    {
        var t = example.Tokens ?? throw new InvalidDataException($"{example.Source}: the row has neither a conversation nor tokens.");
        if (t.Labels.Length != t.InputIds.Length)
            throw new InvalidDataException($"{example.Source}: labels has {t.Labels.Length} entries but input_ids has {t.InputIds.Length}; they must be the same length.");
        if (t.AttentionMask is { } mask && mask.Length != t.InputIds.Length)
            throw new InvalidDataException($"{example.Source}: attention_mask has {mask.Length} entries but input_ids has {t.InputIds.Length}.");
        List<int> ids = [], labels = [];
        for (var i = 0; i < t.InputIds.Length; i++)
        {
            if (t.AttentionMask is { } m && m[i] == 0) continue;   // padding of the source row
            var id = t.InputIds[i];
            var label = t.Labels[i];
            if ((uint)id >= (uint)vocabSize)
                throw new InvalidDataException($"{example.Source}: input_ids[{i}] = {id} is outside the vocabulary (0..{vocabSize - 1}).");
            if (label != EncodedSample.IgnoreIndex && (uint)label >= (uint)vocabSize)
                throw new InvalidDataException($"{example.Source}: labels[{i}] = {label} is neither -100 nor a token id (0..{vocabSize - 1}).");
            ids.Add(id);
            labels.Add(trainOnPrompt ? id : label);
        }
        return new EncodedSample(ids.ToArray(), labels.ToArray(), example.Source);
    }
}
