using System.Text;
using Sft.Data.Datasets;

namespace Sft.Training.Tokenization.Templates;

/// <summary>
/// ChatML as Qwen's chat templates write it (tokenizer_config.json "chat_template"):
/// <c>&lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n</c> per message, tool results grouped in a user message as
/// <c>&lt;tool_response&gt;</c> blocks. <see cref="DefaultSystem"/> is used when the conversation has none (Qwen2.5:
/// "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."). With <see cref="Qwen3Thinking"/> replies
/// are rendered as Qwen3's template does: a reply after the last user message that is the last message, or that has
/// reasoning, is written <c>&lt;think&gt;\n{reasoning}\n&lt;/think&gt;\n\n{answer}</c> (reasoning split off at
/// <c>&lt;/think&gt;</c>); earlier replies keep only their answer. An empty think block is kept in the prompt (it is what
/// generation with enable_thinking=false starts from); real reasoning is trained with the answer.
/// </summary>
public sealed class ChatMlTemplate(string name, string? defaultSystem = null, bool qwen3Thinking = false) : PromptTemplate
{
    const string Start = "<|im_start|>", End = "<|im_end|>", EmptyThink = "<think>\n\n</think>\n\n";

    public override string Name => name;
    public string? DefaultSystem => defaultSystem;
    public bool Qwen3Thinking => qwen3Thinking;

    public override IReadOnlyList<TemplateSegment> Render(Conversation c, TemplateTokens tokens)
    {
        var segments = new List<TemplateSegment>();
        var prompt = new StringBuilder();
        void Flush(int? turn)
        {
            if (prompt.Length > 0) segments.Add(new TemplateSegment(prompt.ToString(), false, turn));
            prompt.Clear();
        }

        if ((c.System ?? defaultSystem) is { } system) prompt.Append(Start).Append("system\n").Append(system).Append(End).Append('\n');
        Flush(null);
        var lastUser = LastIndexOf(c, Role.User);
        for (var i = 0; i < c.Turns.Count; i++)
        {
            var turn = c.Turns[i];
            switch (turn.Role)
            {
                case Role.System:
                    prompt.Append(Start).Append("system\n").Append(turn.Content).Append(End).Append('\n');
                    break;
                case Role.User:
                    prompt.Append(Start).Append("user\n").Append(turn.Content).Append(End).Append('\n');
                    break;
                case Role.Tool:
                    if (i == 0 || c.Turns[i - 1].Role != Role.Tool) prompt.Append(Start).Append("user");
                    prompt.Append("\n<tool_response>\n").Append(turn.Content).Append("\n</tool_response>");
                    if (i == c.Turns.Count - 1 || c.Turns[i + 1].Role != Role.Tool) prompt.Append(End).Append('\n');
                    break;
                case Role.Assistant:
                    prompt.Append(Start).Append("assistant\n");
                    var reply = turn.Content;
                    if (qwen3Thinking)
                    {
                        var (reasoning, answer) = SplitThinking(turn.Content);
                        reply = answer;
                        if (i > lastUser && (i == c.Turns.Count - 1 || reasoning.Length > 0))
                        {
                            if (reasoning.Length == 0) { prompt.Append(EmptyThink); reply = answer.TrimStart('\n'); }
                            else reply = "<think>\n" + reasoning + "\n</think>\n\n" + answer;
                        }
                    }
                    Flush(i);
                    segments.Add(new TemplateSegment(reply + End, true, i));
                    prompt.Append('\n');
                    break;
            }
            Flush(i);
        }
        return segments;
    }

    /// <summary>Qwen3's split of a reply at its last &lt;/think&gt;: (reasoning without surrounding newlines, answer).</summary>
    static (string Reasoning, string Answer) SplitThinking(string content)
    {
        var close = content.IndexOf("</think>", StringComparison.Ordinal);
        if (close < 0) return ("", content);
        var answer = content[(content.LastIndexOf("</think>", StringComparison.Ordinal) + "</think>".Length)..].TrimStart('\n');
        var before = content[..close].TrimEnd('\n');
        var open = before.LastIndexOf("<think>", StringComparison.Ordinal);
        var reasoning = (open < 0 ? before : before[(open + "<think>".Length)..]).TrimStart('\n').Trim('\n');
        return (reasoning, answer);
    }

    public override string RenderGenerationPrompt(Conversation c, TemplateTokens tokens)
    {
        var text = new StringBuilder();
        foreach (var s in Render(c, tokens)) text.Append(s.Text);
        text.Append(Start).Append("assistant\n");
        if (qwen3Thinking) text.Append(EmptyThink);
        return text.ToString();
    }
}
