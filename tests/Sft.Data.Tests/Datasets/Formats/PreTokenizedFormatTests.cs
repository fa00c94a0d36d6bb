using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;

namespace Sft.Data.Tests.Datasets.Formats;

public class PreTokenizedFormatTests
{
    private static DatasetExample Convert(string json) => new PreTokenizedFormat(ColumnMapping.Default).Convert(Rows.Of(json));

    [Fact]
    public void Ids_labels_and_mask_are_read()
    {
        var example = Convert("""{"input_ids": [1, 2, 3], "labels": [-100, 2, 3], "attention_mask": [1, 1, 1]}""");
        Assert.Null(example.Conversation);
        Assert.Equal([1, 2, 3], example.Tokens!.InputIds);
        Assert.Equal([-100, 2, 3], example.Tokens.Labels);
        Assert.Equal([1, 1, 1], example.Tokens.AttentionMask!);
    }

    [Fact]
    public void Lists_as_text_from_csv_are_parsed()
    {
        var example = Convert("""{"input_ids": "[5, 6]", "labels": "[5, 6]"}""");
        Assert.Equal([5, 6], example.Tokens!.InputIds);
        Assert.Null(example.Tokens.AttentionMask);
    }

    [Fact]
    public void Labels_must_match_the_ids_length()
    {
        var ex = Assert.Throws<DatasetException>(() => Convert("""{"input_ids": [1, 2, 3], "labels": [1, 2]}"""));
        Assert.Contains("column 'labels' has 2 entries but 'input_ids' has 3", ex.Message);
        Assert.Equal("test.jsonl line 7", ex.Location);
    }

    [Fact]
    public void Non_integer_entries_are_named()
    {
        var ex = Assert.Throws<DatasetException>(() => Convert("""{"input_ids": [1, 2.5], "labels": [1, 2]}"""));
        Assert.Contains("column 'input_ids' entry 2 is 2.5, expected an integer", ex.Message);
    }
}
