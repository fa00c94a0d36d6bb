using System.Text;
using Sft.Data.Datasets;

namespace Sft.Training.Tokenization.Templates;

/// <summary>
/// The Stanford Alpaca prompt (tatsu-lab/stanford_alpaca train.py PROMPT_DICT): the preamble, "### Instruction:",
/// "### Input:" when the row has one, "### Response:\n", then the output followed by the tokenizer's EOS, which is
/// trained. A conversation's system prompt replaces the preamble. Later user turns of a multi-turn conversation
/// continue as "\n\n### Instruction:\n...\n\n### Response:\n".
/// </summary>
public sealed class AlpacaTemplate : PromptTemplate
{
    public const string PreambleWithInput =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.";
    public const string PreambleWithoutInput =
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

    public override string Name => "alpaca";

    public override IReadOnlyList<TemplateSegment> Render(Conversation c, TemplateTokens tokens)
    {
        var segments = new List<TemplateSegment>();
        var first = true;
        for (var i = 0; i < c.Turns.Count; i++)
        {
            var turn = c.Turns[i];
            switch (turn.Role)
            {
                case Role.User:
                    segments.Add(new TemplateSegment(UserPrompt(c, i, first), false, i));
                    first = false;
                    break;
                case Role.Assistant:
                    segments.Add(new TemplateSegment(turn.Content + tokens.EosToken, true, i));
                    break;
                default:
                    throw Unsupported(turn.Role);
            }
        }
        return segments;
    }

    string UserPrompt(Conversation c, int turn, bool first)
    {
        var (instruction, input) = c.Alpaca is { } a && turn == LastIndexOf(c, Role.User) ? (a.Instruction, a.Input) : (c.Turns[turn].Content, "");
        var text = new StringBuilder();
        if (first) text.Append(c.System ?? (input.Length > 0 ? PreambleWithInput : PreambleWithoutInput));
        text.Append("\n\n### Instruction:\n").Append(instruction);
        if (input.Length > 0) text.Append("\n\n### Input:\n").Append(input);
        text.Append("\n\n### Response:\n");
        return text.ToString();
    }

    public override string RenderGenerationPrompt(Conversation c, TemplateTokens tokens)
    {
        var segments = Render(c, tokens);
        if (c.Turns.Count == 0 || c.Turns[^1].Role != Role.User)
            throw new TemplateException($"template '{Name}': a generation prompt needs the conversation to end with a user turn.");
        return string.Concat(segments.Select(s => s.Text));
    }
}
