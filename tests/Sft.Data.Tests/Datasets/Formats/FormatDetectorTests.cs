using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;

namespace Sft.Data.Tests.Datasets.Formats;

public class FormatDetectorTests
{
    [Theory]
    [InlineData("""{"instruction": "a", "input": "", "output": "b"}""", DatasetFormat.Alpaca)]
    [InlineData("""{"conversations": [{"from": "human", "value": "a"}]}""", DatasetFormat.ShareGpt)]
    [InlineData("""{"messages": [{"role": "user", "content": "a"}]}""", DatasetFormat.Messages)]
    [InlineData("""{"messages": [{"from": "human", "value": "a"}]}""", DatasetFormat.ShareGpt)]
    [InlineData("""{"conversations": "[{\"role\": \"user\", \"content\": \"a\"}]"}""", DatasetFormat.Messages)]
    [InlineData("""{"input_ids": [1], "labels": [1]}""", DatasetFormat.PreTokenized)]
    public void Detects_the_format_from_the_columns(string json, DatasetFormat expected) =>
        Assert.Equal(expected, FormatDetector.Detect(Rows.Of(json), ColumnMapping.Default));

    [Fact]
    public void Mapped_columns_count_for_detection()
    {
        var columns = ColumnMapping.Parse(new Dictionary<string, string> { ["instruction"] = "question", ["output"] = "answer" });
        Assert.Equal(DatasetFormat.Alpaca, FormatDetector.Detect(Rows.Of("""{"question": "q", "answer": "a"}"""), columns));
        var chat = ColumnMapping.Parse(new Dictionary<string, string> { ["messages"] = "dialog" });
        Assert.Equal(DatasetFormat.Messages, FormatDetector.Detect(Rows.Of("""{"dialog": [{"role": "user", "content": "q"}]}"""), chat));
    }

    [Fact]
    public void Unknown_columns_give_the_columns_and_a_suggested_mapping()
    {
        var ex = Assert.Throws<DatasetException>(() => FormatDetector.Detect(Rows.Of("""{"question": "q", "answer": "a", "id": 1}"""), ColumnMapping.Default));
        Assert.Contains("Columns found: question, answer, id", ex.Message);
        Assert.Contains("columns: {instruction: question, output: answer}", ex.Message);
        Assert.Equal("test.jsonl line 7", ex.Location);
    }

    [Fact]
    public void Column_mapping_rejects_unknown_keys_and_round_trips()
    {
        var ex = Assert.Throws<DatasetException>(() => ColumnMapping.Parse(new Dictionary<string, string> { ["answer"] = "x" }));
        Assert.Contains("unknown column mapping key 'answer'", ex.Message);
        Assert.Contains("instruction, input, output", ex.Message);

        var mapping = ColumnMapping.Parse(new Dictionary<string, string> { ["role_tag"] = "speaker", ["conversations"] = "dialog" });
        Assert.Equal(new Dictionary<string, string> { ["messages"] = "dialog", ["role"] = "speaker" }, mapping.ToDictionary());
    }

    [Theory]
    [InlineData("alpaca", DatasetFormat.Alpaca)]
    [InlineData("ShareGPT", DatasetFormat.ShareGpt)]
    [InlineData("openai", DatasetFormat.Messages)]
    [InlineData(null, DatasetFormat.Auto)]
    public void Format_names_parse(string? text, DatasetFormat expected) => Assert.Equal(expected, DatasetFormats.Parse(text));
}
