using Sft.Data.Datasets;

namespace Sft.Training.Tokenization.Templates;

/// <summary>
/// The text of the origin MindFormers <c>AlpacaInstructDataHandler</c>
/// (mindspore-lab/mindformers, mindformers/dataset/handler/alpaca_handler.py), reproduced exactly:
/// <list type="bullet">
/// <item>"{system} " where system is the Vicuna sentence below (a conversation's own system prompt replaces it);</item>
/// <item>"USER: {prompt} " where the prompt is <c>prompt_with_input</c> when the row's input is non-empty, else
///   <c>prompt_without_input</c>, with the row's instruction/input substituted (other user turns: their content);</item>
/// <item>"ASSISTANT: {output}&lt;/s&gt;" — the literal text "&lt;/s&gt;" (the handler's "last token is &lt;/s&gt;"; for
///   Qwen it is plain text, not EOS).</item>
/// </list>
/// As in the handler, each piece is tokenized on its own, system and USER pieces are masked and the whole ASSISTANT
/// piece, "ASSISTANT: " included, is trained. The handler shifts labels left by one (<c>labels[1:] + [-100]</c>);
/// here labels stay aligned with input_ids (Hugging Face convention, the model shifts), which trains the same targets.
/// </summary>
public sealed class MindFormersAlpacaTemplate : PromptTemplate
{
    public const string System =
        "A chat between a curious user and an artificial intelligence assistant. " +
        "The assistant gives helpful, detailed, and polite answers to the user's questions.";

    public const string PromptWithInput =
        "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";

    public const string PromptWithoutInput =
        "Below is an instruction that describes a task. " +
        "Write a response that appropriately completes the request.\n\n" +
        "### Instruction:\n{instruction}\n\n### Response:";

    public override string Name => "mindformers_alpaca";

    /// <summary>The handler's <c>apply_template</c>: <c>prompt.format_map(example)</c>, with input only if non-empty.</summary>
    public static string FormatPrompt(AlpacaPrompt a) =>
        FormatMap(a.Input.Length > 0 ? PromptWithInput : PromptWithoutInput, a.Instruction, a.Input);

    /// <summary>Python's format_map for the two fields: one pass, so braces inside the values stay as they are.</summary>
    static string FormatMap(string template, string instruction, string input)
    {
        var text = new System.Text.StringBuilder(template.Length + instruction.Length + input.Length);
        var pos = 0;
        while (pos < template.Length)
        {
            var open = template.IndexOf('{', pos);
            if (open < 0) { text.Append(template, pos, template.Length - pos); break; }
            var close = template.IndexOf('}', open);
            text.Append(template, pos, open - pos);
            text.Append(template[(open + 1)..close] switch { "instruction" => instruction, "input" => input, var f => throw new InvalidOperationException(f) });
            pos = close + 1;
        }
        return text.ToString();
    }

    public override IReadOnlyList<TemplateSegment> Render(Conversation c, TemplateTokens tokens)
    {
        var segments = new List<TemplateSegment> { new($"{c.System ?? System} ", false, null) };
        for (var i = 0; i < c.Turns.Count; i++)
        {
            var turn = c.Turns[i];
            segments.Add(turn.Role switch
            {
                Role.User => new TemplateSegment($"USER: {UserContent(c, i, FormatPrompt)} ", false, i),
                Role.Assistant => new TemplateSegment($"ASSISTANT: {turn.Content}</s>", true, i),
                _ => throw Unsupported(turn.Role),
            });
        }
        return segments;
    }

    public override string RenderGenerationPrompt(Conversation c, TemplateTokens tokens) =>
        string.Concat(Render(c, tokens).Select(s => s.Text)) + "ASSISTANT:";
}
