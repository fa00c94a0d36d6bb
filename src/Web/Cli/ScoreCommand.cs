using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Models;

namespace Sft.Web.Cli;

/// <summary>
/// <c>score --model DIR --request FILE.json [--dtype float32|bfloat16] [--device auto|cpu|cuda] [--num-layers N]</c>:
/// loads an HF model folder, runs the request's batch (input_ids, attention_mask, labels with -100
/// ignored) and prints JSON: the loss (mean over every counted token of the batch), num_loss_tokens,
/// and the per-position token_loss (entry t predicts labels[t+1]; null where not counted).
/// </summary>
public static class ScoreCommand
{
    const string Name = "score";

    public static Task<int> RunAsync(string[] args) => Task.FromResult(Run(args, Console.Out, Console.Error));

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var options = CliArgs.Parse(Name, args, ["model", "request", "dtype", "device", "num-layers"]);
        var modelDir = options.Require(Name, "model");
        var requestPath = options.Require(Name, "request");
        var load = new ModelLoadOptions
        {
            Dtype = CliValues.Dtype(Name, options.Get("dtype") ?? "float32"),
            Device = CliValues.Device(Name, options.Get("device")),
            NumLayers = CliValues.OptionalInt(Name, "num-layers", options.Get("num-layers")),
        };
        try
        {
            var request = ScoreRequest.Load(requestPath);
            using var model = HfModelFolder.Load(modelDir, load);
            var result = Scorer.Score(model, request);
            output.WriteLine(JsonSerializer.Serialize(new
            {
                loss = result.Loss,
                num_loss_tokens = result.NumLossTokens,
                token_loss = result.TokenLoss,
                dtype = ModelConfig.DtypeName(model.Dtype),
            }, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        catch (Exception e) when (CliValues.IsInputError(e))
        {
            error.WriteLine($"{Name}: {e.Message}");
            return 1;
        }
    }
}
