using Sft.Training.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Lora;

/// <summary>Exports base model + PEFT adapter as one plain Hugging Face model folder (W += B·A·scaling).</summary>
public static class LoraMerge
{
    /// <returns>the number of merged layers</returns>
    public static int MergeToFolder(string baseFolder, string adapterFolder, string output, ScalarType dtype = ScalarType.Float32)
    {
        var settings = PeftAdapter.ReadSettings(adapterFolder);
        // Merge in fp32 whatever the target dtype, then convert once, so bf16 output is rounded a single time.
        using var model = HfModelFolder.Load(baseFolder, new ModelLoadOptions { Dtype = ScalarType.Float32 });
        var adapters = LoraInjector.Inject(model, settings);
        PeftAdapter.LoadWeights(adapterFolder, adapters);
        foreach (var (_, layer) in adapters) layer.Merge();
        if (dtype != ScalarType.Float32) model.to(dtype);
        var tokenizerSource = new[] { adapterFolder, baseFolder }
            .FirstOrDefault(f => HfModelFolder.TokenizerFiles.Any(t => File.Exists(Path.Combine(f, t))));
        HfModelFolder.Save(model, output, new ModelSaveOptions { TokenizerFrom = tokenizerSource });
        return adapters.Count;
    }
}
