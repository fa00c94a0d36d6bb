using System.Text.Json.Nodes;
using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Loading;

/// <summary>Smallest, mean and largest of a length (characters, list entries, turns, tokens).</summary>
public sealed record LengthStats(long Min, double Mean, long Max);

/// <summary>
/// One column across a split: rows that have it, nulls, empty values (empty string or list), value kinds
/// (string, number, list, ...), and text lengths in characters or list lengths in entries.
/// </summary>
public sealed record ColumnStats(string Name, long Present, long Nulls, long Empty,
    IReadOnlyDictionary<string, long> Kinds, LengthStats? TextLength, LengthStats? ListLength);

/// <summary>
/// What the rows become: examples that convert, rows that fail (with the first error), turns per
/// conversation, assistant reply length in characters, and token count for pre-tokenized rows.
/// Token statistics of text rows need a tokenizer and are computed in Sft.Training.
/// </summary>
public sealed record ExampleStats(long Valid, long Invalid, string? FirstError,
    LengthStats? Turns, LengthStats? AssistantChars, LengthStats? Tokens);

/// <summary>A split's profile: row count, detected format, per-column and per-example statistics.</summary>
public sealed record DatasetStats(long Rows, DatasetFormat? Format, string? FormatError, IReadOnlyList<ColumnStats> Columns, ExampleStats Examples);

/// <summary>The first rows of a split as read (for a table in the UI), its columns and the detected format
/// (or why none could be detected, so the user can fix the mapping).</summary>
public sealed record DatasetPreview(IReadOnlyList<string> Columns, IReadOnlyList<RawRow> Rows, DatasetFormat? Format, string? FormatError);

/// <summary>Builds <see cref="DatasetStats"/> in one pass over the rows.</summary>
internal sealed class StatsBuilder(IRowConverter? converter)
{
    private readonly Dictionary<string, ColumnAccumulator> _columns = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly LengthAccumulator _turns = new(), _reply = new(), _tokens = new();
    private long _rows, _valid, _invalid;
    private string? _firstError;

    public void Add(RawRow row)
    {
        _rows++;
        foreach (var (name, value) in row.Values)
        {
            if (!_columns.TryGetValue(name, out var column))
            {
                _columns[name] = column = new ColumnAccumulator();
                _order.Add(name);
            }
            column.Add(value);
        }
        if (converter is null) return;
        try
        {
            var example = converter.Convert(row);
            _valid++;
            if (example.Conversation is { } c)
            {
                _turns.Add(c.Turns.Count);
                foreach (var turn in c.Turns.Where(t => t.Role == Role.Assistant)) _reply.Add(turn.Content.Length);
            }
            if (example.Tokens is { } t) _tokens.Add(t.InputIds.Length);
        }
        catch (DatasetException ex)
        {
            _invalid++;
            _firstError ??= ex.Message;
        }
    }

    public DatasetStats Build(DatasetFormat? format, string? formatError) => new(
        _rows, format, formatError,
        _order.Select(n => _columns[n].Build(n)).ToList(),
        new ExampleStats(_valid, _invalid, _firstError, _turns.Build(), _reply.Build(), _tokens.Build()));

    private sealed class ColumnAccumulator
    {
        private long _present, _nulls, _empty;
        private readonly Dictionary<string, long> _kinds = new(StringComparer.Ordinal);
        private readonly LengthAccumulator _text = new(), _list = new();

        public void Add(JsonNode? value)
        {
            _present++;
            var kind = Fields.Kind(value);
            _kinds[kind] = _kinds.GetValueOrDefault(kind) + 1;
            switch (value)
            {
                case null: _nulls++; break;
                case JsonArray list:
                    _list.Add(list.Count);
                    if (list.Count == 0) _empty++;
                    break;
                case JsonValue v when v.TryGetValue<string>(out var s):
                    _text.Add(s.Length);
                    if (s.Length == 0) _empty++;
                    break;
            }
        }

        public ColumnStats Build(string name) => new(name, _present, _nulls, _empty, _kinds, _text.Build(), _list.Build());
    }

    private sealed class LengthAccumulator
    {
        private long _count, _sum, _min = long.MaxValue, _max = long.MinValue;

        public void Add(long value)
        {
            _count++;
            _sum += value;
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
        }

        public LengthStats? Build() => _count == 0 ? null : new LengthStats(_min, (double)_sum / _count, _max);
    }
}
