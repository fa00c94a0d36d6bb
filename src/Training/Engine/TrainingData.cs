using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Hub;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Training.Checkpoints;
using Sft.Training.Config;
using Sft.Training.Models;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Training.Engine;

/// <summary>
/// The data of a run: the train (and eval) samples ready for batching, the pad id, and the tokenizer and
/// encoder when there is one (a pre-tokenized dataset trains without: ids are checked against the model's vocabulary).
/// </summary>
public sealed record PreparedData(HfTokenizer? Tokenizer, ConversationEncoder? Encoder, TokenizedDataset Train, TokenizedDataset? Eval, int PadId);

/// <summary>
/// From the config's dataset sections to encoded samples: load the split (local file, built-in, or the
/// Hugging Face Hub), hold out the validation rows, render each conversation through the template,
/// tokenize, and apply seq_length. Every count is reported as a log event.
/// </summary>
public static class TrainingData
{
    /// <summary>The configured tokenizer (with the YAML's special-token overrides), else the model folder's; null when neither exists.</summary>
    public static HfTokenizer? LoadTokenizer(TrainConfig config)
    {
        var t = config.Tokenizer;
        var folder = config.Model.Path;
        var named = t.TokenizerFile is not null || t.VocabFile is not null;
        if (!named && !HfModelFolder.TokenizerFiles.Any(f => File.Exists(Path.Combine(folder, f)))) return null;
        return HfTokenizer.Load(new TokenizerSpec(folder, t.TokenizerFile, t.VocabFile, t.MergesFile,
            new SpecialTokenOverrides(t.PadToken, t.EosToken, t.BosToken, t.UnkToken)));
    }

    public static PreparedData Prepare(TrainConfig config, HfTokenizer? tokenizer, ModelConfig model, ITrainingEventSink events, CancellationToken ct)
    {
        var data = config.TrainData;
        var rows = Load(data, events, ct);
        IReadOnlyList<DatasetExample> trainRows = rows, evalRows = [];
        if (config.Eval.Data is { } evalSection)
            evalRows = Load(evalSection, events, ct);
        else if (data.ValidationRatio > 0)
            (trainRows, evalRows) = HoldOut(rows, data.ValidationRatio, (ulong)config.Run.Seed);

        ConversationEncoder? encoder = null;
        Func<DatasetExample, EncodedSample> encode;
        if (tokenizer is not null)
        {
            if (tokenizer.VocabSize > model.VocabSize)
                throw new InvalidDataException($"The tokenizer has {tokenizer.VocabSize:N0} tokens but the model's vocab_size is {model.VocabSize:N0}: they do not belong together.");
            var template = PromptTemplates.Resolve(data.Template, tokenizer);
            encoder = new ConversationEncoder(tokenizer, template, data.TrainOnPrompt);
            encode = encoder.Encode;
            events.Publish(new LogEvent(TrainingLogLevel.Info, $"template {template.Name}, tokenizer vocabulary {tokenizer.VocabSize:N0}"));
        }
        else
        {
            encode = row => row.Conversation is null
                ? ConversationEncoder.FromTokens(row, checked((int)model.VocabSize), data.TrainOnPrompt)
                : throw new InvalidDataException($"{row.Source}: this row is a conversation, which needs a tokenizer, but {config.Model.Path} has no " +
                    "tokenizer files: add tokenizer.json (or vocab.json + merges.txt) to the model folder, or name them in the tokenizer block.");
        }

        var limit = new SequenceLimit(config.Model.SeqLength);
        var train = TokenizedDataset.Prepare(trainRows, encode, limit, cancellationToken: ct);
        Report("train", train.Report, config.Model.SeqLength, events);
        TokenizedDataset? eval = null;
        if (evalRows.Count > 0)
        {
            eval = TokenizedDataset.Prepare(evalRows, encode, limit, cancellationToken: ct);
            Report("eval", eval.Report, config.Model.SeqLength, events);
        }
        if (train.Samples.Count == 0)
            throw new InvalidDataException($"No training samples are left from {data.Spec.Path}: every row was dropped (see the preparation counts above).");
        var padId = tokenizer?.Special.Pad ?? (int)(model.PadTokenId ?? 0);
        return new PreparedData(tokenizer, encoder, train, eval, padId);
    }

    static IReadOnlyList<DatasetExample> Load(DatasetSection section, ITrainingEventSink events, CancellationToken ct)
    {
        var progress = new Progress<DownloadProgress>(p => events.Publish(new LogEvent(TrainingLogLevel.Debug,
            $"downloading {p.RepoId}/{p.Path}: {p.BytesDone:N0}{(p.BytesTotal is { } t ? $" of {t:N0}" : "")} bytes")));
        var split = new DatasetLoader().LoadSplitAsync(section.Spec, progress, ct).GetAwaiter().GetResult();
        var examples = split.Examples(ct).ToList();
        events.Publish(new LogEvent(TrainingLogLevel.Info, $"dataset {section.Spec.Path} [{section.Spec.Split}]: {examples.Count:N0} rows"));
        return examples;
    }

    /// <summary>A seeded, reproducible hold-out: the same rows go to eval on every run with the same seed.</summary>
    public static (IReadOnlyList<DatasetExample> Train, IReadOnlyList<DatasetExample> Eval) HoldOut(
        IReadOnlyList<DatasetExample> rows, double ratio, ulong seed)
    {
        var evalCount = (int)Math.Clamp(Math.Round(rows.Count * ratio), rows.Count > 1 ? 1 : 0, Math.Max(0, rows.Count - 1));
        var order = EpochShuffle.Permutation(rows.Count, seed ^ 0x5EED_E7A1UL, epoch: 0);
        var evalSet = order.Take(evalCount).ToHashSet();
        var train = new List<DatasetExample>(rows.Count - evalCount);
        var eval = new List<DatasetExample>(evalCount);
        for (var i = 0; i < rows.Count; i++) (evalSet.Contains(i) ? eval : train).Add(rows[i]);
        return (train, eval);
    }

    static void Report(string name, PreparationReport r, int seqLength, ITrainingEventSink events)
    {
        events.Publish(new LogEvent(TrainingLogLevel.Info,
            $"{name}: {r.Samples:N0} samples, {r.Tokens:N0} tokens ({r.LossTokens:N0} trained) from {r.Rows:N0} rows in {r.Elapsed.TotalSeconds:F1}s"));
        if (r.Truncated > 0 || r.DroppedTooLong > 0)
            events.Publish(new LogEvent(TrainingLogLevel.Warning,
                $"{name}: {r.Truncated:N0} samples truncated and {r.DroppedTooLong:N0} dropped at seq_length {seqLength}"));
        if (r.DroppedNoTrainableTokens > 0)
            events.Publish(new LogEvent(TrainingLogLevel.Warning,
                $"{name}: {r.DroppedNoTrainableTokens:N0} samples dropped because no trained token was left (the reply fell past seq_length)"));
    }
}
