using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sft.Data.Datasets.Sources;

/// <summary>
/// Streams the rows of a JSON file that holds one list of objects: a top-level array, or an object with
/// the list under a key (<c>field</c>, or the first list-valued key when none is named). Reads the file in
/// chunks (never whole), parses one row at a time and tracks the line each row starts on.
/// </summary>
internal static class JsonArrayReader
{
    public static async IAsyncEnumerable<RawRow> ReadAsync(
        Stream stream, string fileName, string? field, int bufferSize = 1 << 16,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var scanner = new Scanner(fileName, field);
        var buffer = new byte[Math.Max(bufferSize, 16)];
        int start = 0, end = 0;
        bool final = false, first = true;
        var rows = new List<RawRow>();
        while (true)
        {
            if (!final)
            {
                int read = await stream.ReadAsync(buffer.AsMemory(end), ct);
                if (read == 0) final = true;
                end += read;
            }
            if (first && end - start >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
            first = first && end < 3 && !final;

            rows.Clear();
            start += scanner.Scan(buffer.AsSpan(start, end - start), final, rows);
            foreach (var row in rows) yield return row;
            if (scanner.Done) yield break;
            if (final) throw new DatasetException("the file ended before the JSON list was closed; the file is cut short.", $"{fileName} line {scanner.Line}");

            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        }
    }

    /// <summary>Walks tokens across chunks; every return leaves the reader at a complete-token boundary.</summary>
    private sealed class Scanner(string fileName, string? field)
    {
        private enum Phase { Root, Wrapper, WrapperValue, Elements, Done }

        private Phase _phase = Phase.Root;
        private JsonReaderState _state;
        private long _newlines;
        private long _rowIndex;
        private string _pendingName = "";
        private readonly List<string> _keysSeen = [];

        public bool Done => _phase == Phase.Done;
        public long Line => _newlines + 1;

        /// <summary>Parses complete rows out of <paramref name="data"/>; returns the bytes consumed.</summary>
        public int Scan(ReadOnlySpan<byte> data, bool final, List<RawRow> rows)
        {
            if (final && _phase == Phase.Root && data.Trim(" \t\r\n"u8).IsEmpty)
                throw new DatasetException("the file is empty; it should hold a JSON list of rows.", fileName);
            var reader = new Utf8JsonReader(data, final, _state);
            int safePos = 0, counted = 0;
            var safeState = _state;
            try
            {
                while (_phase != Phase.Done)
                {
                    if (!Step(ref reader, data, rows, ref counted)) break;
                    safePos = (int)reader.BytesConsumed;
                    safeState = reader.CurrentState;
                }
            }
            catch (JsonException ex)
            {
                throw new DatasetException(
                    $"malformed JSON at byte {ex.BytePositionInLine + 1} of the line: {Describe(ex)}. Fix the quotes, commas or brackets there.",
                    $"{fileName} line {ex.LineNumber + 1}", ex);
            }
            _newlines += CountNewlines(data[counted..safePos]);
            _state = safeState;
            return safePos;
        }

        /// <summary>One step of the state machine; false when more data is needed (nothing consumed).</summary>
        private bool Step(ref Utf8JsonReader reader, ReadOnlySpan<byte> data, List<RawRow> rows, ref int counted)
        {
            var before = reader;
            if (!reader.Read()) return false;
            switch (_phase)
            {
                case Phase.Root:
                    if (reader.TokenType == JsonTokenType.StartArray) { _phase = Phase.Elements; return true; }
                    if (reader.TokenType == JsonTokenType.StartObject) { _phase = Phase.Wrapper; return true; }
                    throw new DatasetException(
                        $"the file holds a JSON {reader.TokenType}, expected a list of rows ([{{...}}, ...]) or an object with the list under a key.",
                        $"{fileName} line {Line + CountNewlines(data[..(int)reader.TokenStartIndex])}");

                case Phase.Wrapper:
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        var keys = _keysSeen.Count == 0 ? "none" : string.Join(", ", _keysSeen);
                        throw new DatasetException(field is null
                            ? $"the top-level object has no list of rows; its keys: {keys}. Store the rows as a JSON list."
                            : $"the top-level object has no list under the key '{field}'; its keys: {keys}. Set the field to one of them.", fileName);
                    }
                    _pendingName = reader.GetString() ?? "";
                    _phase = Phase.WrapperValue;
                    return true;

                case Phase.WrapperValue:
                    if (reader.TokenType == JsonTokenType.StartArray && (field is null || field == _pendingName))
                    {
                        _phase = Phase.Elements;
                        return true;
                    }
                    if (!reader.TrySkip()) { reader = before; return false; }
                    _keysSeen.Add(_pendingName);
                    _phase = Phase.Wrapper;
                    return true;

                case Phase.Elements:
                    if (reader.TokenType == JsonTokenType.EndArray) { _phase = Phase.Done; return true; }
                    int tokenStart = (int)reader.TokenStartIndex;
                    if (!reader.TrySkip()) { reader = before; return false; }
                    _newlines += CountNewlines(data[counted..tokenStart]);
                    counted = tokenStart;
                    _rowIndex++;
                    var location = $"{fileName} line {Line}";
                    var node = JsonNode.Parse(data[tokenStart..(int)reader.BytesConsumed]);
                    if (node is not JsonObject obj)
                        throw new DatasetException($"row {_rowIndex} is a JSON {Kind(node)}, expected an object with one key per column.", location);
                    rows.Add(new RawRow(obj, location));
                    return true;

                default:
                    return false;
            }
        }

        private static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();

        private static long CountNewlines(ReadOnlySpan<byte> span) => span.Count((byte)'\n');
    }

    /// <summary>The parser's message without its "Path: $ | LineNumber..." tail (the location says that).</summary>
    internal static string Describe(JsonException ex)
    {
        var message = ex.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
