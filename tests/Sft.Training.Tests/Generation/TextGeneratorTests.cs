using Sft.Training.Checkpoints;
using Sft.Training.Generation;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Generation;

public class TextGeneratorTests
{
    static readonly long[] Prompt = [1, 45, 300, 7];

    static CausalLM Load(string fixture) => HfModelFolder.Load(TestAssets.Reference(fixture, "model"));

    /// <summary>Greedy decoding the slow way: the whole sequence through the model at every step, no cache.</summary>
    static List<long> GreedyWithoutCache(CausalLM model, long[] prompt, int steps)
    {
        var sequence = prompt.ToList();
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var logits = model.forward(tensor(sequence.ToArray(), [1, sequence.Count], ScalarType.Int64));
            sequence.Add(logits[0, -1].argmax().item<long>());
        }
        return sequence.Skip(prompt.Length).ToList();
    }

    [Theory]
    [InlineData("qwen2_tied")]
    [InlineData("llama")]
    public void Greedy_with_the_cache_equals_greedy_without(string fixture)
    {
        using var model = Load(fixture);
        var options = new GenerationOptions { MaxNewTokens = 12, EosTokenIds = [] };
        var cached = TextGenerator.Generate(model, Prompt, options);
        Assert.Equal(GreedyWithoutCache(model, Prompt, 12), cached);
        Assert.Equal(12, cached.Count);
    }

    [Fact]
    public void Generation_stops_at_an_eos_token_and_includes_it()
    {
        using var model = Load("llama");
        var free = TextGenerator.Generate(model, Prompt, new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [] }).ToList();
        var stopAt = free[3];
        var firstIndex = free.IndexOf(stopAt);
        var stopped = TextGenerator.Generate(model, Prompt, new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [stopAt] });
        Assert.Equal(free.Take(firstIndex + 1), stopped);
    }

    [Fact]
    public void Sampling_is_seeded_and_tiny_top_p_is_greedy()
    {
        using var model = Load("qwen2_untied");
        var greedy = TextGenerator.Generate(model, Prompt, new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [] });
        var hot = new GenerationOptions { MaxNewTokens = 8, Temperature = 1.5, TopP = 1.0, EosTokenIds = [], Seed = 7 };
        var a = TextGenerator.Generate(model, Prompt, hot);
        var b = TextGenerator.Generate(model, Prompt, hot);
        var c = TextGenerator.Generate(model, Prompt, hot with { Seed = 8 });
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);                  // 8 tokens from a near-uniform 512-way distribution
        Assert.NotEqual(greedy, a);
        Assert.Equal(greedy, TextGenerator.Generate(model, Prompt, hot with { TopP = 1e-6 }));
    }

    [Fact]
    public void Top_p_keeps_only_the_nucleus()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new[] { 2.0f, 1.0f, 0.0f, -1.0f }).log_softmax(0);      // probs ~ .64 .24 .09 .03
        var generator = new TorchSharp.torch.Generator(1, CPU);
        var options = new GenerationOptions { Temperature = 1, TopP = 0.8 };
        var seen = Enumerable.Range(0, 400).Select(_ => TextGenerator.Pick(logits, options, generator)).ToHashSet();
        Assert.Equal(new HashSet<long> { 0, 1 }, seen);
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        using var model = Load("llama");
        Assert.Contains("top_p", Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, Prompt, new GenerationOptions { TopP = 0 })).Message);
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, Prompt, new GenerationOptions { Temperature = -1 })).Message);
        Assert.Contains("max_position_embeddings (128)", Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, Prompt, new GenerationOptions { MaxNewTokens = 200 })).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => TextGenerator.Generate(model, [], new GenerationOptions())).Message);
    }
}
