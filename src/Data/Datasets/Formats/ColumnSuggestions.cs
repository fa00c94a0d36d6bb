namespace Sft.Data.Datasets.Formats;

/// <summary>
/// Guesses the column mapping that would make a dataset readable, from common column names
/// (<c>prompt</c>, <c>question</c>, <c>response</c>, <c>answer</c>, <c>conversation</c>, ...), so a
/// missing-column error can say exactly what to write.
/// </summary>
internal static class ColumnSuggestions
{
    private static readonly (string Part, string[] Names)[] Synonyms =
    [
        ("instruction", ["instruction", "prompt", "question", "query", "problem", "input_text", "user"]),
        ("input", ["input", "context"]),
        ("output", ["output", "response", "answer", "completion", "target", "solution", "chosen", "assistant"]),
        ("messages", ["messages", "conversations", "conversation", "dialog", "dialogue", "chat", "turns"]),
        ("input_ids", ["input_ids", "tokens", "token_ids", "ids"]),
    ];

    /// <summary>A sentence naming the mapping to set; <paramref name="needed"/> are the part names the format requires.</summary>
    public static string For(IEnumerable<string> columns, params string[] needed)
    {
        var found = columns.ToList();
        var pairs = new List<string>();
        foreach (var part in needed)
        {
            var names = Synonyms.FirstOrDefault(s => s.Part == part).Names ?? [part];
            var match = names.Select(n => found.FirstOrDefault(c => string.Equals(c, n, StringComparison.OrdinalIgnoreCase)))
                .FirstOrDefault(c => c is not null);
            pairs.Add($"{part}: {match ?? "<column>"}");
        }
        return $"Map the dataset's columns in the spec, e.g. columns: {{{string.Join(", ", pairs)}}}, or pick the right format.";
    }

    /// <summary>The format the columns most likely are, with its suggested mapping, when none was recognised.</summary>
    public static string ForUnknown(IEnumerable<string> columns)
    {
        var found = columns.ToList();
        bool Has(string part) => Synonyms.First(s => s.Part == part).Names
            .Any(n => found.Any(c => string.Equals(c, n, StringComparison.OrdinalIgnoreCase)));
        if (Has("messages")) return For(found, "messages") + " (format: sharegpt for from/value turns, messages for role/content)";
        if (Has("input_ids")) return For(found, "input_ids", "labels") + " (format: pretokenized)";
        return For(found, "instruction", "output") + " (format: alpaca)";
    }
}
