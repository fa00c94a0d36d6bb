using System.Text.Json.Nodes;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Formats;

/// <summary>
/// Alpaca rows: <c>instruction</c>, <c>input</c>, <c>output</c>, optional <c>system</c> and <c>history</c>
/// ([[question, answer], ...], turns placed before the last exchange). The last user turn is the
/// instruction and the input joined by a newline (either may be empty); the raw pair is kept as
/// <see cref="AlpacaPrompt"/> for templates that render it themselves.
/// </summary>
public sealed class AlpacaFormat(ColumnMapping columns) : IRowConverter
{
    private readonly string _instruction = columns.Instruction ?? "instruction";
    private readonly string _input = columns.Input ?? "input";
    private readonly string _output = columns.Output ?? "output";
    private readonly string _system = columns.System ?? "system";
    private readonly string _history = columns.History ?? "history";

    public DatasetFormat Format => DatasetFormat.Alpaca;

    public DatasetExample Convert(RawRow row)
    {
        string Help() => ColumnSuggestions.For(row.Columns, "instruction", "output");
        var instruction = Fields.RequiredString(row, _instruction, "instruction", Help);
        var output = Fields.RequiredString(row, _output, "output", Help);
        var input = Fields.OptionalString(row, _input, "input") ?? "";
        var system = Fields.OptionalString(row, _system, "system");

        if (string.IsNullOrWhiteSpace(output))
            throw new DatasetException($"empty assistant reply: column '{_output}' is empty. Remove the row or fill in the reply.", row.Location);
        if (string.IsNullOrWhiteSpace(instruction) && string.IsNullOrWhiteSpace(input))
            throw new DatasetException($"empty prompt: columns '{_instruction}' and '{_input}' are both empty. Remove the row or fill in the instruction.", row.Location);

        var turns = new List<Turn>();
        if (Fields.OptionalArray(row, _history, "history") is { } history) AddHistory(history, turns, row.Location);
        var prompt = string.Join("\n", new[] { instruction, input }.Where(s => s.Length > 0));
        turns.Add(new Turn(Role.User, prompt));
        turns.Add(new Turn(Role.Assistant, output));
        var conversation = new Conversation(turns, string.IsNullOrEmpty(system) ? null : system, new AlpacaPrompt(instruction, input));
        return new DatasetExample(conversation, null, row.Location);
    }

    private void AddHistory(JsonArray history, List<Turn> turns, string location)
    {
        for (int i = 0; i < history.Count; i++)
        {
            var what = $"column '{_history}' item {i + 1}";
            if (Fields.AsArray(history[i], what, location) is not { Count: 2 } pair)
                throw new DatasetException($"{what} must be a [question, answer] pair of two strings.", location);
            var question = Fields.AsString(pair[0], $"{what} question", location) ?? "";
            var answer = Fields.AsString(pair[1], $"{what} answer", location) ?? "";
            if (string.IsNullOrWhiteSpace(answer))
                throw new DatasetException($"empty assistant reply in {what}. Fill in the answer or drop the pair.", location);
            turns.Add(new Turn(Role.User, question));
            turns.Add(new Turn(Role.Assistant, answer));
        }
    }
}
