using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// A batch to score, HF style: <c>input_ids</c> [B][T], optional <c>attention_mask</c> (1 = token,
/// 0 = padding; default all ones) and optional <c>labels</c> (-100 = not counted; default input_ids
/// wherever attention_mask is 1).
/// </summary>
public sealed record ScoreRequest(long[][] InputIds, long[][] AttentionMask, long[][] Labels)
{
    public int Batch => InputIds.Length;
    public int Length => InputIds[0].Length;

    public static ScoreRequest Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Request file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static ScoreRequest Parse(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON ({e.Message})."); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: the top level must be an object with \"input_ids\".");
        var ids = Matrix(doc.RootElement, "input_ids", source)
            ?? throw new InvalidDataException($"{source}: \"input_ids\" is missing; give a list of token-id lists, e.g. {{\"input_ids\": [[1, 2, 3]]}}.");
        if (ids.Length == 0 || ids[0].Length == 0) throw new InvalidDataException($"{source}: \"input_ids\" is empty.");
        var mask = Matrix(doc.RootElement, "attention_mask", source) ?? ids.Select(r => r.Select(_ => 1L).ToArray()).ToArray();
        var labels = Matrix(doc.RootElement, "labels", source)
            ?? ids.Select((r, b) => r.Select((id, t) => mask[b][t] != 0 ? id : CausalLmLoss.IgnoreIndex).ToArray()).ToArray();
        foreach (var (name, m) in new[] { ("input_ids", ids), ("attention_mask", mask), ("labels", labels) })
        {
            if (m.Length != ids.Length)
                throw new InvalidDataException($"{source}: \"{name}\" has {m.Length} rows but \"input_ids\" has {ids.Length}.");
            for (var b = 0; b < m.Length; b++)
                if (m[b].Length != ids[0].Length)
                    throw new InvalidDataException($"{source}: \"{name}\" row {b} has {m[b].Length} entries but \"input_ids\" row 0 has {ids[0].Length}; " +
                        "pad every row to one length and mark padding with attention_mask 0 and labels -100.");
        }
        for (var b = 0; b < mask.Length; b++)
            for (var t = 0; t < mask[b].Length; t++)
                if (mask[b][t] is not (0 or 1))
                    throw new InvalidDataException($"{source}: \"attention_mask\"[{b}][{t}] is {mask[b][t]}; use 1 for tokens and 0 for padding.");
        return new ScoreRequest(ids, mask, labels);
    }

    static long[][]? Matrix(JsonElement root, string key, string source)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{source}: \"{key}\" must be a list of lists of integers.");
        var rows = new List<long[]>();
        foreach (var (row, b) in value.EnumerateArray().Select((r, i) => (r, i)))
        {
            if (row.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{source}: \"{key}\"[{b}] must be a list of integers.");
            rows.Add(row.EnumerateArray().Select((x, t) => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out var v)
                ? v : throw new InvalidDataException($"{source}: \"{key}\"[{b}][{t}] must be an integer (got {x.GetRawText()}).")).ToArray());
        }
        return rows.ToArray();
    }

    public Tensor InputIdsTensor(Device device) => ToTensor(InputIds, device);
    public Tensor AttentionMaskTensor(Device device) => ToTensor(AttentionMask, device);
    public Tensor LabelsTensor(Device device) => ToTensor(Labels, device);

    static Tensor ToTensor(long[][] rows, Device device) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], ScalarType.Int64).to(device);
}

/// <summary>The loss of a scored batch: mean over every counted token of the batch, and per position.</summary>
/// <param name="TokenLoss">[B][T]: entry t is the loss of predicting labels[t+1]; null where not counted.</param>
public sealed record ScoreResult(double Loss, long NumLossTokens, double?[][] TokenLoss);

public static class Scorer
{
    /// <summary>Forward pass without gradients and HF causal-LM loss of <paramref name="request"/>.</summary>
    public static ScoreResult Score(CausalLM model, ScoreRequest request)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var device = model.Device;
        var labels = request.LabelsTensor(device);
        var logits = model.forward(request.InputIdsTensor(device), request.AttentionMaskTensor(device));
        var loss = CausalLmLoss.Compute(logits, labels);
        var perToken = CausalLmLoss.TokenLosses(logits, labels).cpu().data<float>().ToArray();
        var tokenLoss = Enumerable.Range(0, request.Batch).Select(b => Enumerable.Range(0, request.Length)
            .Select(t => perToken[b * request.Length + t] is var v && float.IsNaN(v) ? (double?)null : v).ToArray()).ToArray();
        return new ScoreResult(loss.Mean, loss.Count, tokenLoss);
    }
}
