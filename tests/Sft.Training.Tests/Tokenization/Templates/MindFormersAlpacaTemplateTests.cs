using Sft.Data.Datasets;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Training.Tests.Tokenization.Templates;

/// <summary>
/// The text of the origin's AlpacaInstructDataHandler (mindformers/dataset/handler/alpaca_handler.py): system + " ",
/// "USER: " + prompt + " ", "ASSISTANT: " + output + "&lt;/s&gt;", each piece tokenized alone; system and USER masked.
/// The expected strings below are written out by hand from the handler's source.
/// </summary>
public class MindFormersAlpacaTemplateTests
{
    static readonly HfTokenizer Qwen = BuiltInTokenizers.LoadQwen();
    static readonly PromptTemplate Template = PromptTemplates.Get("mindformers_alpaca");

    static Conversation Row(string instruction, string input, string output) => new(
        [new Turn(Role.User, input.Length > 0 ? instruction + "\n" + input : instruction), new Turn(Role.Assistant, output)],
        Alpaca: new AlpacaPrompt(instruction, input));

    [Fact]
    public void A_row_with_input_renders_exactly_as_the_handler()
    {
        var row = Row("Summarize the text.", "The cat sat on the mat.", "A cat sat.");
        const string expected =
            "A chat between a curious user and an artificial intelligence assistant. " +
            "The assistant gives helpful, detailed, and polite answers to the user's questions. " +
            "USER: Below is an instruction that describes a task, paired with an input that provides further context. " +
            "Write a response that appropriately completes the request.\n\n" +
            "### Instruction:\nSummarize the text.\n\n### Input:\nThe cat sat on the mat.\n\n### Response: " +
            "ASSISTANT: A cat sat.</s>";
        Assert.Equal(expected, string.Concat(Template.Render(row, TemplateTokens.Of(Qwen)).Select(s => s.Text)));
    }

    [Fact]
    public void A_row_without_input_uses_the_shorter_prompt()
    {
        var row = Row("Give three tips for staying healthy.", "", "1. Eat well.");
        const string expected =
            "A chat between a curious user and an artificial intelligence assistant. " +
            "The assistant gives helpful, detailed, and polite answers to the user's questions. " +
            "USER: Below is an instruction that describes a task. " +
            "Write a response that appropriately completes the request.\n\n" +
            "### Instruction:\nGive three tips for staying healthy.\n\n### Response: " +
            "ASSISTANT: 1. Eat well.</s>";
        Assert.Equal(expected, string.Concat(Template.Render(row, TemplateTokens.Of(Qwen)).Select(s => s.Text)));
    }

    [Fact]
    public void Braces_in_the_row_are_not_format_fields()
    {
        var text = MindFormersAlpacaTemplate.FormatPrompt(new AlpacaPrompt("Fill {input} in", "x = {instruction}"));
        Assert.Contains("### Instruction:\nFill {input} in\n\n### Input:\nx = {instruction}\n\n", text);
    }

    [Fact]
    public void Ids_and_labels_are_the_pieces_tokenized_alone_with_only_the_assistant_piece_trained()
    {
        var row = Row("Name a fruit.", "", "Apple.");
        var sample = new ConversationEncoder(Qwen, Template).Encode(new DatasetExample(row, null, "test:1"));

        var system = Qwen.Encode(MindFormersAlpacaTemplate.System + " ");
        var user = Qwen.Encode("USER: " + MindFormersAlpacaTemplate.FormatPrompt(row.Alpaca!) + " ");
        var assistant = Qwen.Encode("ASSISTANT: Apple.</s>");
        Assert.Equal([.. system, .. user, .. assistant], sample.InputIds);
        Assert.Equal([.. Enumerable.Repeat(-100, system.Length + user.Length), .. assistant], sample.Labels);
        // "</s>" is text for Qwen: the handler's end marker is "<", "/s", ">" pieces, not EOS.
        Assert.DoesNotContain(Qwen.Special.Eos, sample.InputIds);
    }
}
