using Sft.Training.Lora;
using Sft.Training.Models;

namespace Sft.Bench;

/// <summary>
/// The benchmarked shapes, read from <c>configs/*.json</c> beside the executable (the same files
/// pytorch_eager.py reads), and the LoRA setting both sides use: rank r, alpha 2r, no dropout, on
/// every attention and MLP projection.
/// </summary>
public static class BenchModels
{
    static readonly Dictionary<string, string> Files = new()
    {
        ["50m"] = "qwen2-50m.json",
        ["150m"] = "qwen2-150m.json",
        ["qwen2.5-0.5b"] = "qwen2.5-0.5b.json",
        ["qwen2.5-1.5b"] = "qwen2.5-1.5b.json",
        ["qwen2.5-7b"] = "qwen2.5-7b.json",
    };

    public static readonly string[] LoraTargetNames = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public static ModelConfig Load(string name)
    {
        if (!Files.TryGetValue(name, out var file))
            throw new BenchOptionException($"--model is '{name}'; use one of {string.Join(", ", Files.Keys)}.");
        return ModelConfig.Load(Path.Combine(AppContext.BaseDirectory, "configs", file));
    }

    public static LoraSettings Lora(int rank) => new(rank, 2.0 * rank, 0.0, new LoraTargets(LoraTargetNames), UseRsLora: false);
}
