using System.Text;
using Sft.Data.Datasets;

namespace Sft.Training.Tokenization.Templates;

/// <summary>
/// Llama 3 Instruct's chat template: <c>&lt;|begin_of_text|&gt;</c>, then per message
/// <c>&lt;|start_header_id|&gt;{role}&lt;|end_header_id|&gt;\n\n{content | trim}&lt;|eot_id|&gt;</c>; tool results use the
/// <c>ipython</c> role (Llama 3.1). No default system prompt.
/// </summary>
public sealed class Llama3Template : PromptTemplate
{
    const string Bos = "<|begin_of_text|>", Eot = "<|eot_id|>";

    public override string Name => "llama3";

    static string Header(string role) => $"<|start_header_id|>{role}<|end_header_id|>\n\n";

    public override IReadOnlyList<TemplateSegment> Render(Conversation c, TemplateTokens tokens)
    {
        var segments = new List<TemplateSegment>();
        var head = new StringBuilder(Bos);
        if (c.System is { } system) head.Append(Header("system")).Append(system.Trim()).Append(Eot);
        segments.Add(new TemplateSegment(head.ToString(), false, null));
        for (var i = 0; i < c.Turns.Count; i++)
        {
            var turn = c.Turns[i];
            if (turn.Role == Role.Assistant)
            {
                segments.Add(new TemplateSegment(Header("assistant"), false, i));
                segments.Add(new TemplateSegment(turn.Content.Trim() + Eot, true, i));
                continue;
            }
            var role = turn.Role switch { Role.System => "system", Role.User => "user", _ => "ipython" };
            segments.Add(new TemplateSegment(Header(role) + turn.Content.Trim() + Eot, false, i));
        }
        return segments;
    }

    public override string RenderGenerationPrompt(Conversation c, TemplateTokens tokens) =>
        string.Concat(Render(c, tokens).Select(s => s.Text)) + Header("assistant");
}
