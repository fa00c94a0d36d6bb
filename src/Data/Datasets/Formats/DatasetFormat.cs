namespace Sft.Data.Datasets.Formats;

/// <summary>How a dataset's rows are laid out. <see cref="Auto"/> detects it from the first row's columns.</summary>
public enum DatasetFormat
{
    Auto,
    /// <summary><c>instruction</c>, <c>input</c>, <c>output</c>, optional <c>system</c> and <c>history</c> [[q, a], ...].</summary>
    Alpaca,
    /// <summary><c>conversations</c>: [{from, value}] with human/gpt/system/function_call/observation; optional <c>system</c>.</summary>
    ShareGpt,
    /// <summary><c>messages</c>: [{role, content, loss_weight?}] with user/assistant/system/tool.</summary>
    Messages,
    /// <summary><c>input_ids</c>, <c>labels</c> (same length), optional <c>attention_mask</c>.</summary>
    PreTokenized,
}

/// <summary>Parses format names as written in configs (case-insensitive, with common aliases).</summary>
public static class DatasetFormats
{
    public static DatasetFormat Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => DatasetFormat.Auto,
        "alpaca" => DatasetFormat.Alpaca,
        "sharegpt" or "conversations" => DatasetFormat.ShareGpt,
        "messages" or "openai" or "chatml" => DatasetFormat.Messages,
        "pretokenized" or "pre-tokenized" or "pre_tokenized" or "tokenized" => DatasetFormat.PreTokenized,
        _ => throw new DatasetException($"unknown dataset format '{text}'; use one of: auto, alpaca, sharegpt, messages, pretokenized."),
    };
}
