using System.Text.Json.Nodes;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Formats;

/// <summary>
/// Rows that are already tokenized: <c>input_ids</c> and <c>labels</c> (same length, -100 marks ignored
/// positions) and an optional <c>attention_mask</c> of the same length.
/// </summary>
public sealed class PreTokenizedFormat(ColumnMapping columns) : IRowConverter
{
    private readonly string _ids = columns.InputIds ?? "input_ids";
    private readonly string _labels = columns.Labels ?? "labels";
    private readonly string _mask = columns.AttentionMask ?? "attention_mask";

    public DatasetFormat Format => DatasetFormat.PreTokenized;

    public DatasetExample Convert(RawRow row)
    {
        string Help() => ColumnSuggestions.For(row.Columns, "input_ids", "labels");
        var ids = Ints(Fields.RequiredArray(row, _ids, "token ids", Help), _ids, row.Location);
        var labels = Ints(Fields.RequiredArray(row, _labels, "labels", Help), _labels, row.Location);
        if (ids.Length == 0)
            throw new DatasetException($"column '{_ids}' is an empty list; a row needs at least one token.", row.Location);
        if (labels.Length != ids.Length)
            throw new DatasetException(
                $"column '{_labels}' has {labels.Length} entries but '{_ids}' has {ids.Length}; they must be the same length (use -100 for positions without loss).",
                row.Location);
        int[]? mask = null;
        if (Fields.OptionalArray(row, _mask, "attention mask") is { } maskList)
        {
            mask = Ints(maskList, _mask, row.Location);
            if (mask.Length != ids.Length)
                throw new DatasetException($"column '{_mask}' has {mask.Length} entries but '{_ids}' has {ids.Length}; they must be the same length.", row.Location);
        }
        return new DatasetExample(null, new PreTokenized(ids, labels, mask), row.Location);
    }

    private static int[] Ints(JsonArray list, string column, string location)
    {
        var values = new int[list.Count];
        for (int i = 0; i < values.Length; i++) values[i] = Fields.AsInt(list[i], $"column '{column}' entry {i + 1}", location);
        return values;
    }
}
