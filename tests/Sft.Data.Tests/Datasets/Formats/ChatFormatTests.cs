using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;

namespace Sft.Data.Tests.Datasets.Formats;

public class ChatFormatTests
{
    private static Conversation ShareGpt(string json, ColumnMapping? columns = null) =>
        new ChatFormat(DatasetFormat.ShareGpt, columns ?? ColumnMapping.Default).Convert(Rows.Of(json)).Conversation!;

    private static Conversation Messages(string json, ColumnMapping? columns = null) =>
        new ChatFormat(DatasetFormat.Messages, columns ?? ColumnMapping.Default).Convert(Rows.Of(json)).Conversation!;

    [Fact]
    public void Sharegpt_maps_tags_to_roles_and_a_leading_system_turn_to_the_system_prompt()
    {
        var c = ShareGpt("""
            {"conversations": [
              {"from": "system", "value": "Be brief."},
              {"from": "human", "value": "Weather in Paris?"},
              {"from": "function_call", "value": "{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}"},
              {"from": "observation", "value": "{\"temp\": 21}"},
              {"from": "gpt", "value": "21 degrees."}]}
            """);
        Assert.Equal("Be brief.", c.System);
        Assert.Equal([Role.User, Role.Assistant, Role.Tool, Role.Assistant], c.Turns.Select(t => t.Role));
        Assert.Equal("21 degrees.", c.Turns[^1].Content);
        Assert.Null(c.Alpaca);
    }

    [Fact]
    public void Sharegpt_system_column_is_used_when_there_is_no_system_turn()
    {
        var c = ShareGpt("""{"system": "You are terse.", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hi"}]}""");
        Assert.Equal("You are terse.", c.System);
    }

    [Fact]
    public void Messages_read_string_content_text_parts_and_loss_weights()
    {
        var c = Messages("""
            {"messages": [
              {"role": "user", "content": [{"type": "text", "value": "hi"}], "loss_weight": 0.0},
              {"role": "assistant", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}], "loss_weight": 1.0},
              {"role": "user", "content": "again"},
              {"role": "assistant", "content": "Hello again"}]}
            """);
        Assert.Equal(new Turn(Role.User, "hi", 0.0), c.Turns[0]);
        Assert.Equal(new Turn(Role.Assistant, "Hello there", 1.0), c.Turns[1]);
        Assert.Equal(new Turn(Role.Assistant, "Hello again"), c.Turns[3]);
    }

    [Fact]
    public void Column_keys_and_tags_are_mappable()
    {
        var columns = ColumnMapping.Parse(new Dictionary<string, string>
        {
            ["messages"] = "conversation", ["role"] = "speaker", ["content"] = "text",
            ["user_tag"] = "student", ["assistant_tag"] = "teacher",
        });
        var c = Messages("""{"conversation": [{"speaker": "student", "text": "2+2?"}, {"speaker": "teacher", "text": "4"}]}""", columns);
        Assert.Equal([new Turn(Role.User, "2+2?"), new Turn(Role.Assistant, "4")], c.Turns);
    }

    [Fact]
    public void Unknown_role_names_the_turn_and_the_mapping_that_fixes_it()
    {
        var ex = Assert.Throws<DatasetException>(() => ShareGpt("""{"conversations": [{"from": "student", "value": "q"}, {"from": "gpt", "value": "a"}]}"""));
        Assert.Contains("turn 1 of column 'conversations' has role 'student'", ex.Message);
        Assert.Contains("user_tag: student", ex.Message);
    }

    [Fact]
    public void Empty_assistant_reply_is_an_error()
    {
        var ex = Assert.Throws<DatasetException>(() => Messages("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]}"""));
        Assert.Contains("empty assistant reply in turn 2", ex.Message);
    }

    [Fact]
    public void Conversation_must_end_with_the_assistant()
    {
        var ex = Assert.Throws<DatasetException>(() => Messages("""{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]}"""));
        Assert.Contains("ends with a user turn", ex.Message);
    }

    [Fact]
    public void Missing_list_column_suggests_the_mapping()
    {
        var ex = Assert.Throws<DatasetException>(() => Messages("""{"conversation": [], "id": 3}"""));
        Assert.Contains("column 'messages' (the list of turns) not found", ex.Message);
        Assert.Contains("Columns found: conversation, id", ex.Message);
        Assert.Contains("columns: {messages: conversation}", ex.Message);
    }

    [Fact]
    public void Wrong_types_are_named()
    {
        var ex = Assert.Throws<DatasetException>(() => Messages("""{"messages": [{"role": "user", "content": "q", "loss_weight": "heavy"}, {"role": "assistant", "content": "a"}]}"""));
        Assert.Contains("turn 1 of column 'messages' 'loss_weight' is a string (\"heavy\"), expected a number", ex.Message);

        var notList = Assert.Throws<DatasetException>(() => Messages("""{"messages": {"role": "user"}}"""));
        Assert.Contains("column 'messages' (the list of turns) is an object, expected a list", notList.Message);
    }

    [Fact]
    public void Non_text_parts_are_refused()
    {
        var ex = Assert.Throws<DatasetException>(() => Messages("""{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}, {"role": "assistant", "content": "a"}]}"""));
        Assert.Contains("has type 'image_url'; only text parts are supported", ex.Message);
    }
}
