using Sft.Data.Datasets;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Hub;
using Sft.Data.Datasets.Sources;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Web.Ui;

/// <summary>The first rows of a dataset rendered through a template, and its token-length statistics.</summary>
public sealed record DatasetPreview(string Dataset, string Template, IReadOnlyList<PreviewRow> Rows, DatasetStatistics Statistics, bool Sampled);

/// <summary>
/// Previews for the dataset pages: the dataset is read through <see cref="DatasetLoader"/> (a built-in name or a
/// local file/folder), encoded with the built-in Qwen tokenizer and the chosen template, and measured with
/// <see cref="DatasetInspector"/>. Statistics cover at most <see cref="MaxRows"/> rows so a large upload stays quick.
/// </summary>
public sealed class DatasetPreviews
{
    public const int MaxRows = 5000;
    public const string DefaultTemplate = "qwen";

    public static IReadOnlyList<string> Templates => PromptTemplates.Names.Order(StringComparer.Ordinal).ToList();

    /// <summary>A built-in name (<c>builtin:</c> or bare) or a local file/folder, read off the caller's thread
    /// (tokenizing thousands of rows takes a moment).</summary>
    public Task<DatasetPreview> PreviewAsync(string dataset, string template, int seqLength = 1024, int rows = 5, CancellationToken ct = default)
    {
        var name = dataset.StartsWith("builtin:", StringComparison.Ordinal) ? dataset["builtin:".Length..] : dataset;
        return Task.Run(() => PreviewAsync(new DatasetSpec { Path = name }, dataset, PromptTemplates.Get(template), seqLength, rows, MaxRows, null, ct), ct);
    }

    /// <summary>
    /// The preview of any dataset spec (the REST API passes its catalog's spec and Hub client): the first
    /// <paramref name="rows"/> rows rendered, and statistics over at most <paramref name="maxRows"/> rows, sequences
    /// truncated at <paramref name="seqLength"/>. A dataset without rows is a <see cref="DatasetException"/>.
    /// </summary>
    public static async Task<DatasetPreview> PreviewAsync(DatasetSpec spec, string label, PromptTemplate template, int seqLength, int rows,
        int maxRows, HubClient? hub, CancellationToken ct)
    {
        var split = await new DatasetLoader(hub).LoadSplitAsync(spec, ct: ct);
        var examples = new List<DatasetExample>();
        var sampled = false;
        await foreach (var example in split.ReadExamplesAsync(ct))
        {
            if (examples.Count == maxRows) { sampled = true; break; }
            examples.Add(example);
        }
        if (examples.Count == 0) throw new DatasetException($"dataset '{label}' has no rows.");
        var encoder = new ConversationEncoder(BuiltInTokenizers.LoadQwen(), template);
        return new DatasetPreview(label, template.Name, DatasetInspector.Preview(examples, encoder, rows),
            DatasetInspector.Statistics(examples, encoder, new SequenceLimit(seqLength)), sampled);
    }
}
