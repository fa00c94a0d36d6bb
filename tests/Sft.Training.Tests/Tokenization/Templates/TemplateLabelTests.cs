using Sft.Data.Datasets;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Training.Tests.Tokenization.Templates;

/// <summary>Which tokens are trained: assistant replies and their end token; prompts masked; options and loss weights.</summary>
public class TemplateLabelTests
{
    static readonly HfTokenizer Qwen = BuiltInTokenizers.LoadQwen();

    static EncodedSample Encode(string template, Conversation c, bool trainOnPrompt = false) =>
        new ConversationEncoder(Qwen, PromptTemplates.Get(template), trainOnPrompt).Encode(new DatasetExample(c, null, "test:1"));

    /// <summary>The decoded text of the trained tokens, runs joined by '|'.</summary>
    static string Trained(EncodedSample s)
    {
        var runs = new List<string>();
        var run = new List<int>();
        for (var i = 0; i <= s.Length; i++)
        {
            if (i < s.Length && s.Labels[i] != EncodedSample.IgnoreIndex) { Assert.Equal(s.InputIds[i], s.Labels[i]); run.Add(s.Labels[i]); continue; }
            if (run.Count > 0) { runs.Add(Qwen.Decode(run.ToArray())); run.Clear(); }
        }
        return string.Join("|", runs);
    }

    static readonly Conversation MultiTurn = new(
        [new Turn(Role.User, "Hi"), new Turn(Role.Assistant, "Hello!"), new Turn(Role.User, "Bye"), new Turn(Role.Assistant, "Goodbye!")],
        System: "Be kind.");

    [Fact]
    public void Chatml_trains_every_assistant_reply_with_its_end_token()
    {
        var s = Encode("chatml", MultiTurn);
        Assert.Equal("Hello!<|im_end|>|Goodbye!<|im_end|>", Trained(s));
        Assert.Equal("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n" +
                     "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\nGoodbye!<|im_end|>\n", Qwen.Decode(s.InputIds));
        Assert.Equal(s.InputIds.Length, s.Labels.Length);
    }

    [Fact]
    public void Qwen_adds_its_default_system_prompt_when_there_is_none()
    {
        var s = Encode("qwen", new Conversation([new Turn(Role.User, "Hi"), new Turn(Role.Assistant, "Hello!")]));
        Assert.StartsWith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n", Qwen.Decode(s.InputIds));
        Assert.Equal("Hello!<|im_end|>", Trained(s));
    }

    [Fact]
    public void Llama3_trains_replies_and_eot()
    {
        var s = Encode("llama3", MultiTurn);
        Assert.Equal("Hello!<|eot_id|>|Goodbye!<|eot_id|>", Trained(s));
    }

    [Fact]
    public void Alpaca_ends_the_reply_with_the_tokenizers_eos_and_trains_it()
    {
        var c = new Conversation([new Turn(Role.User, "Add 2 and 3.\n(numbers)"), new Turn(Role.Assistant, "5")], Alpaca: new AlpacaPrompt("Add 2 and 3.", "(numbers)"));
        var s = Encode("alpaca", c);
        Assert.Equal(AlpacaTemplate.PreambleWithInput + "\n\n### Instruction:\nAdd 2 and 3.\n\n### Input:\n(numbers)\n\n### Response:\n5<|im_end|>", Qwen.Decode(s.InputIds));
        Assert.Equal("5<|im_end|>", Trained(s));
    }

    [Fact]
    public void Train_on_prompt_trains_everything()
    {
        var s = Encode("chatml", MultiTurn, trainOnPrompt: true);
        Assert.Equal(s.InputIds, s.Labels);
    }

    [Fact]
    public void A_turn_with_loss_weight_zero_is_masked()
    {
        var c = MultiTurn with { Turns = [MultiTurn.Turns[0], MultiTurn.Turns[1] with { LossWeight = 0.0 }, MultiTurn.Turns[2], MultiTurn.Turns[3] with { LossWeight = 1.0 }] };
        Assert.Equal("Goodbye!<|im_end|>", Trained(Encode("chatml", c)));
        Assert.Equal("ASSISTANT: Goodbye!</s>", Trained(Encode("mindformers_alpaca", c)));
    }

    [Fact]
    public void Alpaca_templates_refuse_tool_turns_naming_the_row()
    {
        var c = new Conversation([new Turn(Role.User, "Hi"), new Turn(Role.Tool, "{}"), new Turn(Role.Assistant, "Ok")]);
        var e = Assert.Throws<InvalidDataException>(() => Encode("alpaca", c));
        Assert.Contains("test:1", e.Message);
        Assert.Contains("tool", e.Message);
    }
}
