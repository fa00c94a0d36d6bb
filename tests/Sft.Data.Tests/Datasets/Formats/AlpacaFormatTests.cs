using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;

namespace Sft.Data.Tests.Datasets.Formats;

public class AlpacaFormatTests
{
    private static DatasetExample Convert(string json, ColumnMapping? columns = null) =>
        new AlpacaFormat(columns ?? ColumnMapping.Default).Convert(Rows.Of(json));

    [Fact]
    public void Instruction_and_input_join_with_a_newline_and_the_raw_pair_is_kept()
    {
        var example = Convert("""{"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"}""");

        var c = example.Conversation!;
        Assert.Null(example.Tokens);
        Assert.Equal(2, c.Turns.Count);
        Assert.Equal(new Turn(Role.User, "Translate to French.\nGood morning"), c.Turns[0]);
        Assert.Equal(new Turn(Role.Assistant, "Bonjour"), c.Turns[1]);
        Assert.Equal(new AlpacaPrompt("Translate to French.", "Good morning"), c.Alpaca);
        Assert.Null(c.System);
        Assert.Equal("test.jsonl line 7", example.Source);
    }

    [Fact]
    public void Empty_input_leaves_the_instruction_alone()
    {
        var c = Convert("""{"instruction": "Name a colour.", "input": "", "output": "Blue."}""").Conversation!;
        Assert.Equal("Name a colour.", c.Turns[0].Content);
        Assert.Equal(new AlpacaPrompt("Name a colour.", ""), c.Alpaca);
    }

    [Fact]
    public void History_turns_come_first_and_system_is_read()
    {
        var c = Convert("""
            {"instruction": "And 3+3?", "input": "", "output": "6", "system": "You add numbers.",
             "history": [["1+1?", "2"], ["2+2?", "4"]]}
            """).Conversation!;
        Assert.Equal("You add numbers.", c.System);
        Assert.Equal(
            [new(Role.User, "1+1?"), new(Role.Assistant, "2"), new(Role.User, "2+2?"), new(Role.Assistant, "4"),
             new(Role.User, "And 3+3?"), new(Role.Assistant, "6")],
            c.Turns);
    }

    [Fact]
    public void History_as_json_text_from_a_csv_cell_is_parsed()
    {
        var c = Convert("""{"instruction": "q2", "input": "", "output": "a2", "history": "[[\"q1\", \"a1\"]]"}""").Conversation!;
        Assert.Equal(4, c.Turns.Count);
        Assert.Equal("a1", c.Turns[1].Content);
    }

    [Fact]
    public void Mapped_columns_are_read()
    {
        var columns = ColumnMapping.Parse(new Dictionary<string, string> { ["instruction"] = "prompt", ["output"] = "response" });
        var c = Convert("""{"prompt": "Say hi", "response": "Hi!"}""", columns).Conversation!;
        Assert.Equal("Say hi", c.Turns[0].Content);
        Assert.Equal("Hi!", c.Turns[1].Content);
    }

    [Fact]
    public void Missing_column_lists_the_columns_found_and_the_mapping_that_fixes_it()
    {
        var ex = Assert.Throws<DatasetException>(() => Convert("""{"prompt": "Say hi", "response": "Hi!"}"""));
        Assert.Equal("test.jsonl line 7", ex.Location);
        Assert.Contains("column 'instruction' (instruction) not found", ex.Message);
        Assert.Contains("Columns found: prompt, response", ex.Message);
        Assert.Contains("columns: {instruction: prompt, output: response}", ex.Message);
    }

    [Fact]
    public void Empty_reply_is_an_error()
    {
        var ex = Assert.Throws<DatasetException>(() => Convert("""{"instruction": "Say hi", "input": "", "output": "  "}"""));
        Assert.Contains("empty assistant reply", ex.Message);
        Assert.StartsWith("test.jsonl line 7:", ex.Message);
    }

    [Fact]
    public void Wrong_type_names_the_column_and_the_types()
    {
        var ex = Assert.Throws<DatasetException>(() => Convert("""{"instruction": "Say hi", "output": ["Hi"]}"""));
        Assert.Contains("column 'output' (output) is a list, expected a string", ex.Message);
    }

    [Fact]
    public void Malformed_history_pair_is_an_error()
    {
        var ex = Assert.Throws<DatasetException>(() => Convert("""{"instruction": "q", "output": "a", "history": [["only one"]]}"""));
        Assert.Contains("column 'history' item 1 must be a [question, answer] pair", ex.Message);
    }
}
