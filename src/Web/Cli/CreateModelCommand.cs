using Sft.Training.Checkpoints;
using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Web.Cli;

/// <summary>
/// <c>create-model --config CONFIG.json|--preset NAME --out DIR [--tokenizer DIR] [--seed N] [--dtype D] [--overwrite]</c>:
/// writes a randomly initialised HF model folder (config.json, generation_config.json, safetensors,
/// tokenizer files) for demos and tests. Presets and the Qwen tokenizer are built into the program.
/// </summary>
public static class CreateModelCommand
{
    const string Name = "create-model";
    const long QwenTokenizerSize = 151_669;

    public static Task<int> RunAsync(string[] args) => Task.FromResult(Run(args, Console.Out, Console.Error));

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var options = CliArgs.Parse(Name, args, ["config", "preset", "out", "tokenizer", "seed", "dtype"], ["overwrite"]);
        var (configPath, presetName) = (options.Get("config"), options.Get("preset"));
        if ((configPath is null) == (presetName is null))
            throw new CliUsageException($"{Name}: give exactly one of --config CONFIG.json or --preset NAME (presets: {string.Join(", ", ModelPresets.Names)}).");
        var outDir = options.Require(Name, "out");
        var seed = CliValues.OptionalLong(Name, "seed", options.Get("seed")) ?? 0;
        var tokenizerDir = options.Get("tokenizer");
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !options.Has("overwrite"))
            throw new CliUsageException($"{Name}: {outDir} exists and is not empty; pass --overwrite to replace it.");

        try
        {
            ModelConfig config;
            GenerationConfig generation;
            string? bundled;
            if (presetName is not null)
            {
                ModelPreset preset;
                try { preset = ModelPresets.Get(presetName); }
                catch (ArgumentException e) { throw new CliUsageException($"{Name}: {e.Message}"); }
                (config, generation, bundled) = (preset.Config, preset.Generation, preset.Tokenizer);
            }
            else
            {
                config = ModelConfig.Load(configPath!);
                generation = GenerationConfig.Load(Path.GetDirectoryName(Path.GetFullPath(configPath!))!, config);
                bundled = config.ModelType == "qwen2" && config.VocabSize >= QwenTokenizerSize ? "qwen" : null;
            }
            var dtype = CliValues.Dtype(Name, options.Get("dtype") ?? config.TorchDtype);

            using var model = new CausalLM(config, CPU, dtype) { Generation = generation };
            ModelInit.Initialize(model, seed);
            var save = tokenizerDir is not null
                ? new ModelSaveOptions { TokenizerFrom = tokenizerDir }
                : new ModelSaveOptions { AlsoWrite = bundled is null ? null : folder => ModelPresets.WriteTokenizer(bundled, folder) };
            HfModelFolder.Save(model, outDir, save);

            var tokenizer = tokenizerDir ?? (bundled is null ? "none" : $"bundled {bundled}");
            output.WriteLine($"Created {outDir}: {config.ModelType}, {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, " +
                $"vocab {config.VocabSize}, {config.ParameterCount():N0} parameters ({ModelConfig.DtypeName(dtype)}), seed {seed}, tokenizer: {tokenizer}.");
            if (tokenizerDir is null && bundled is null)
                error.WriteLine($"{Name}: no tokenizer written (the bundled Qwen tokenizer only fits qwen2 configs with vocab_size >= {QwenTokenizerSize}); pass --tokenizer DIR.");
            return 0;
        }
        catch (Exception e) when (CliValues.IsInputError(e))
        {
            error.WriteLine($"{Name}: {e.Message}");
            return 1;
        }
    }
}
