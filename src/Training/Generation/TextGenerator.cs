using Sft.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Generation;

/// <summary>How to pick each next token.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>0 = greedy (argmax); above 0 the logits are divided by it and sampled.</summary>
    public double Temperature { get; init; }
    /// <summary>Nucleus sampling: sample among the most likely tokens whose probabilities add up to TopP.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Stop after any of these; null = the model's generation_config eos_token_id.</summary>
    public IReadOnlyCollection<long>? EosTokenIds { get; init; }
    /// <summary>Seed of the sampler (same seed, same model, same prompt: same text).</summary>
    public long Seed { get; init; }

    public void Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentException($"max_new_tokens must be >= 1, got {MaxNewTokens}.");
        if (Temperature < 0 || double.IsNaN(Temperature)) throw new ArgumentException($"temperature must be >= 0 (0 = greedy), got {Temperature}.");
        if (TopP is <= 0 or > 1 || double.IsNaN(TopP)) throw new ArgumentException($"top_p must be in (0, 1], got {TopP}.");
    }
}

/// <summary>
/// Autoregressive generation for one prompt: the prompt runs once to fill the KV cache, then each step
/// feeds only the new token. Stops at an EOS token (which is included in the output) or after
/// MaxNewTokens.
/// </summary>
public static class TextGenerator
{
    public static IReadOnlyList<long> Generate(CausalLM model, IReadOnlyList<long> promptIds, GenerationOptions options) =>
        Stream(model, promptIds, options).ToList();

    /// <summary>The new tokens one by one, as they are produced.</summary>
    public static IEnumerable<long> Stream(CausalLM model, IReadOnlyList<long> promptIds, GenerationOptions options)
    {
        options.Validate();
        if (promptIds.Count == 0) throw new ArgumentException("The prompt is empty; give at least one token.");
        if (promptIds.Count + options.MaxNewTokens > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"Prompt ({promptIds.Count} tokens) + max_new_tokens ({options.MaxNewTokens}) exceeds max_position_embeddings ({model.Config.MaxPositionEmbeddings}).");
        var eos = new HashSet<long>(options.EosTokenIds ?? model.Generation.EosTokenIds);
        var generator = new Generator((ulong)options.Seed, CPU);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var cache = model.NewCache();
            var input = promptIds.ToArray();
            for (var step = 0; step < options.MaxNewTokens; step++)
            {
                long next;
                using (no_grad())
                using (NewDisposeScope())
                {
                    var ids = tensor(input, [1, input.Length], ScalarType.Int64).to(model.Device);
                    var logits = model.ForwardCached(ids, cache);                              // [1, T, V]
                    next = Pick(logits[0, -1].to(ScalarType.Float32), options, generator);
                }
                yield return next;
                if (eos.Contains(next)) yield break;
                input = [next];
            }
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Argmax, or a sample from softmax(logits / T) restricted to the top-p nucleus.</summary>
    public static long Pick(Tensor logits, GenerationOptions options, Generator generator)
    {
        using var scope = NewDisposeScope();
        if (options.Temperature == 0) return logits.argmax().item<long>();
        var probs = (logits / options.Temperature).softmax(-1).cpu();                         // [V]
        if (options.TopP < 1)
        {
            var (sorted, order) = probs.sort(descending: true);
            // Keep a token while the mass before it is below top_p (the most likely one always stays).
            var before = sorted.cumsum(0) - sorted;
            sorted = sorted.masked_fill(before >= options.TopP, 0);
            probs = zeros_like(probs).scatter(0, order, sorted);
        }
        return multinomial(probs / probs.sum(), 1, generator: generator).item<long>();
    }
}
