using Sft.Training.Lora;

namespace Sft.Web.Cli;

/// <summary>
/// <c>merge-lora --base DIR --adapter DIR --out DIR [--dtype float32|bfloat16]</c>: merges a PEFT adapter (a LoRA job's
/// checkpoint folder, or any adapter PEFT saved) into its base model and writes a plain Hugging Face model folder.
/// </summary>
public static class MergeLoraCommand
{
    const string Name = "merge-lora";

    public static Task<int> RunAsync(string[] args) => Task.FromResult(Run(args, Console.Out, Console.Error));

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var options = CliArgs.Parse(Name, args, ["base", "adapter", "out", "dtype"]);
        var (baseFolder, adapter, outDir) = (options.Require(Name, "base"), options.Require(Name, "adapter"), options.Require(Name, "out"));
        var dtype = CliValues.Dtype(Name, options.Get("dtype") ?? "float32");
        try
        {
            var merged = LoraMerge.MergeToFolder(baseFolder, adapter, outDir, dtype);
            output.WriteLine($"Merged {merged} LoRA layers of {adapter} into {baseFolder}: wrote {Path.GetFullPath(outDir)}.");
            return 0;
        }
        catch (Exception e) when (CliValues.IsInputError(e))
        {
            error.WriteLine($"{Name}: {e.Message}");
            return 1;
        }
    }
}
