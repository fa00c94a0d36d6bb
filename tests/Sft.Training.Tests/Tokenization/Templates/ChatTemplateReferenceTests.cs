using System.Text.Json;
using Sft.Data.Datasets;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Training.Tests.Tokenization.Templates;

/// <summary>
/// Our templates against the real Jinja chat templates rendered by @huggingface/jinja
/// (tests/assets/tokenizers/chat_template_reference.json, made by make_reference.mjs): Qwen3's from the shipped
/// tokenizer_config.json and Llama 3's.
/// </summary>
public class ChatTemplateReferenceTests
{
    static readonly TemplateTokens Tokens = new("<|im_end|>");

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestAssets.Root, "tokenizers", "chat_template_reference.json")));
        var i = 0;
        foreach (var c in doc.RootElement.EnumerateArray())
            yield return [i++, c.GetProperty("template").GetString()!, c.GetProperty("add_generation_prompt").GetBoolean(),
                c.GetProperty("messages").GetRawText(), c.GetProperty("text").GetString()!];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_like_the_Jinja_template(int index, string template, bool generationPrompt, string messagesJson, string expected)
    {
        var conversation = ToConversation(messagesJson);
        var t = PromptTemplates.Get(template);
        // Llama 3.0's template appends the assistant header even without add_generation_prompt (a known quirk of
        // that release), so its reference is always our generation prompt.
        var actual = generationPrompt || template == "llama3"
            ? t.RenderGenerationPrompt(conversation, Tokens)
            : string.Concat(t.Render(conversation, Tokens).Select(s => s.Text));
        Assert.True(expected == actual, $"case {index} ({template})\nexpected: {JsonSerializer.Serialize(expected)}\nactual:   {JsonSerializer.Serialize(actual)}");
    }

    [Fact]
    public void The_shipped_Qwen_chat_template_is_detected_as_qwen3()
    {
        Assert.Equal("qwen3", PromptTemplates.Detect(BuiltInTokenizers.LoadQwen().ChatTemplate)?.Name);
        Assert.Equal("qwen3", PromptTemplates.Resolve(null, BuiltInTokenizers.LoadQwen()).Name);
        Assert.Equal("mindformers_alpaca", PromptTemplates.Resolve("mindformers_alpaca", BuiltInTokenizers.LoadQwen()).Name);
    }

    [Fact]
    public void Detection_tells_the_families_apart()
    {
        const string qwen25 = "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}";
        Assert.Equal("qwen", PromptTemplates.Detect(qwen25)?.Name);
        Assert.Equal("qwen2", PromptTemplates.Detect("{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}")?.Name);
        Assert.Equal("chatml", PromptTemplates.Detect("{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}")?.Name);
        Assert.Equal("llama3", PromptTemplates.Detect("{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>' }}")?.Name);
        Assert.Null(PromptTemplates.Detect("[INST] {{ message['content'] }} [/INST]"));
        Assert.Null(PromptTemplates.Detect(null));
    }

    [Fact]
    public void An_unknown_template_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => PromptTemplates.Get("vicuna"));
        foreach (var name in new[] { "chatml", "qwen", "qwen3", "llama3", "alpaca", "mindformers_alpaca" }) Assert.Contains(name, e.Message);
    }

    static Conversation ToConversation(string messagesJson)
    {
        using var doc = JsonDocument.Parse(messagesJson);
        string? system = null;
        var turns = new List<Turn>();
        foreach (var m in doc.RootElement.EnumerateArray())
        {
            var role = m.GetProperty("role").GetString();
            var content = m.GetProperty("content").GetString()!;
            if (role == "system" && turns.Count == 0 && system is null) { system = content; continue; }
            turns.Add(new Turn(role switch { "system" => Role.System, "user" => Role.User, "assistant" => Role.Assistant, _ => Role.Tool }, content));
        }
        return new Conversation(turns, system);
    }
}
