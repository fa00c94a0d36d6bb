using Sft.Data.Datasets;

namespace Sft.Training.Tokenization.Templates;

/// <summary>
/// A piece of rendered text. Each segment is tokenized on its own (as LLaMA-Factory and MindFormers do), so a label
/// boundary never falls inside a token. <paramref name="Trainable"/> segments get labels (the assistant's reply and
/// its end token); the others are -100. <paramref name="Turn"/> is the index in <see cref="Conversation.Turns"/> the
/// segment renders, or null for text of the template itself (system block, preamble).
/// </summary>
public sealed record TemplateSegment(string Text, bool Trainable, int? Turn);

/// <summary>Token strings a template writes as text: the tokenizer's EOS (Alpaca ends replies with it).</summary>
public sealed record TemplateTokens(string EosToken)
{
    public static TemplateTokens Of(HfTokenizer tokenizer) => new(tokenizer.EosToken);
}

/// <summary>Thrown when a conversation cannot be rendered by a template (a tool turn for Alpaca, no assistant turn, ...).</summary>
public sealed class TemplateException(string message) : Exception(message);

/// <summary>
/// A prompt format: renders a <see cref="Conversation"/> into <see cref="TemplateSegment"/>s for training, and the
/// text a model continues for generation. Built in (there is no Jinja engine on NuGet); see <see cref="PromptTemplates"/>.
/// </summary>
public abstract class PromptTemplate
{
    public abstract string Name { get; }

    /// <summary>The conversation as training text, in order.</summary>
    public abstract IReadOnlyList<TemplateSegment> Render(Conversation conversation, TemplateTokens tokens);

    /// <summary>The conversation followed by the assistant's header: what a model continues to answer the last turn.</summary>
    public abstract string RenderGenerationPrompt(Conversation conversation, TemplateTokens tokens);

    public override string ToString() => Name;

    /// <summary>The content of a user turn: the last one of an Alpaca row is its instruction/input, through <paramref name="format"/>.</summary>
    protected static string UserContent(Conversation c, int turn, Func<AlpacaPrompt, string> format) =>
        c.Alpaca is { } alpaca && turn == LastIndexOf(c, Role.User) ? format(alpaca) : c.Turns[turn].Content;

    protected static int LastIndexOf(Conversation c, Role role)
    {
        for (var i = c.Turns.Count - 1; i >= 0; i--) if (c.Turns[i].Role == role) return i;
        return -1;
    }

    protected TemplateException Unsupported(Role role) =>
        new($"template '{Name}' cannot render a {role.ToString().ToLowerInvariant()} turn; use a chat template (chatml, qwen, llama3) for such data.");
}
