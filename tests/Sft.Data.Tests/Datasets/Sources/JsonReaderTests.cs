using System.Text;
using System.Text.Json.Nodes;
using Sft.Data.Datasets;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Tests.Datasets.Sources;

public class JsonReaderTests
{
    [Fact]
    public async Task Top_level_array_streams_rows_with_their_start_lines()
    {
        using var dir = new TempFolder();
        var file = dir.Write("data.json", """
            [
              {"instruction": "a", "output": "1"},
              {
                "instruction": "b",
                "output": "2"
              },
              {"instruction": "c", "output": "3"}
            ]
            """);

        var rows = await Rows.ReadAll(DataFile.Local(file));

        Assert.Equal(["a", "b", "c"], rows.Select(r => (string)r.Values["instruction"]!));
        Assert.Equal(["data.json line 2", "data.json line 3", "data.json line 7"], rows.Select(r => r.Location));
    }

    [Fact]
    public async Task Rows_spanning_chunk_boundaries_parse_and_keep_line_numbers()
    {
        // 300 rows of varying length read through a 16-byte buffer: every row crosses chunks and the buffer grows.
        var text = new StringBuilder("[\n");
        for (int i = 0; i < 300; i++)
            text.Append($"  {{\"instruction\": \"{new string('x', i % 37)}{i}\", \"output\": \"ü{i}\"}}{(i < 299 ? "," : "")}\n");
        text.Append(']');
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));

        var rows = new List<RawRow>();
        await foreach (var row in JsonArrayReader.ReadAsync(stream, "big.json", null, bufferSize: 16)) rows.Add(row);

        Assert.Equal(300, rows.Count);
        Assert.Equal("ü299", (string)rows[299].Values["output"]!);
        Assert.Equal("big.json line 301", rows[299].Location);
        Assert.Equal("big.json line 152", rows[150].Location);
    }

    [Fact]
    public async Task Object_with_the_list_under_a_key_is_read_by_field_or_first_list()
    {
        using var dir = new TempFolder();
        var file = dir.Write("wrapped.json", """
            {
              "version": "1.0",
              "meta": {"rows": [1, 2]},
              "data": [
                {"instruction": "a", "output": "1"},
                {"instruction": "b", "output": "2"}
              ],
              "extra": [{"x": 1}]
            }
            """);

        var byField = await Rows.ReadAll(DataFile.Local(file), field: "extra");
        Assert.Equal(1, (int)byField.Single().Values["x"]!);

        var firstList = await Rows.ReadAll(DataFile.Local(file));
        Assert.Equal(2, firstList.Count);
        Assert.Equal("wrapped.json line 6", firstList[1].Location);

        var ex = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(file), field: "rows"));
        Assert.Contains("no list under the key 'rows'; its keys: version, meta, data, extra", ex.Message);
    }

    [Fact]
    public async Task Malformed_json_names_the_file_and_line()
    {
        using var dir = new TempFolder();
        var file = dir.Write("bad.json", "[\n  {\"instruction\": \"a\", \"output\": \"1\"},\n  {\"instruction\": \"b\" \"output\": \"2\"}\n]");

        var ex = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(file)));

        Assert.Equal("bad.json line 3", ex.Location);
        Assert.Contains("malformed JSON", ex.Message);
    }

    [Fact]
    public async Task Truncated_and_empty_files_are_reported()
    {
        using var dir = new TempFolder();
        var cut = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(dir.Write("cut.json", "[\n{\"a\": 1},\n{\"a\""))));
        Assert.StartsWith("cut.json line 3", cut.Message);

        var empty = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(dir.Write("empty.json", "  \n"))));
        Assert.Contains("the file is empty", empty.Message);

        var scalar = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(dir.Write("rows.json", "[{\"a\": 1}, 5]"))));
        Assert.Contains("row 2 is a JSON number, expected an object", scalar.Message);
    }

    [Fact]
    public async Task Jsonl_reads_line_by_line_skipping_blank_lines()
    {
        using var dir = new TempFolder();
        var file = dir.Write("data.jsonl", "{\"a\": 1}\n\n{\"a\": 2}\r\n{\"a\": 3}\n");

        var rows = await Rows.ReadAll(DataFile.Local(file));

        Assert.Equal([1, 2, 3], rows.Select(r => (int)r.Values["a"]!));
        Assert.Equal("data.jsonl line 3", rows[1].Location);
    }

    [Fact]
    public async Task Jsonl_handles_a_bom_lines_longer_than_the_buffer_and_no_final_newline()
    {
        using var dir = new TempFolder();
        var longText = new string('z', 200_000);
        var file = dir.File("long.jsonl");
        File.WriteAllText(file, $"{{\"a\": \"{longText}\"}}\n{{\"a\": \"short\"}}", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        var rows = await Rows.ReadAll(DataFile.Local(file));

        Assert.Equal(longText, (string)rows[0].Values["a"]!);
        Assert.Equal("short", (string)rows[1].Values["a"]!);
        Assert.Equal("long.jsonl line 2", rows[1].Location);
    }

    [Fact]
    public async Task Malformed_jsonl_line_names_the_line_and_character()
    {
        using var dir = new TempFolder();
        var file = dir.Write("data.jsonl", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,}\n{\"a\": 4}\n");

        var ex = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(file)));

        Assert.Equal("data.jsonl line 3", ex.Location);
        Assert.Contains("malformed JSON at byte 9", ex.Message);

        var array = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(dir.Write("arr.jsonl", "[1, 2]\n"))));
        Assert.Contains("arr.jsonl line 1: the line holds a JSON array, expected an object", array.Message);
    }

    [Fact]
    public async Task Json_extension_holding_json_lines_is_read_as_json_lines()
    {
        using var dir = new TempFolder();
        var file = dir.Write("lines.json", "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}\n{\"messages\": []}\n");

        var rows = await Rows.ReadAll(DataFile.Local(file));

        Assert.Equal(2, rows.Count);
        Assert.Equal("lines.json line 2", rows[1].Location);
    }

    [Fact]
    public async Task Gzipped_json_and_jsonl_are_decompressed()
    {
        using var dir = new TempFolder();
        var json = dir.WriteGzip("d.json.gz", "[{\"a\": 1}, {\"a\": 2}]");
        var jsonl = dir.WriteGzip("d.jsonl.gz", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n");

        Assert.Equal(2, (await Rows.ReadAll(DataFile.Local(json))).Count);
        var lines = await Rows.ReadAll(DataFile.Local(jsonl));
        Assert.Equal(3, lines.Count);
        Assert.Equal("d.jsonl.gz line 3", lines[2].Location);
    }

    [Fact]
    public async Task Builtin_demo_datasets_are_embedded()
    {
        Assert.Equal(["alpaca_en_demo", "alpaca_zh_demo", "identity", "v1_sft_demo"], BuiltinDatasets.Names);
        Assert.True(BuiltinDatasets.TryGet("builtin:alpaca_en_demo", out var alpaca));
        var rows = await Rows.ReadAll(alpaca);
        Assert.Equal(999, rows.Count);
        Assert.Equal("Describe a process of making crepes.", (string)rows[0].Values["instruction"]!);
        Assert.Equal("alpaca_en_demo.json line 2", rows[0].Location);
        Assert.False(BuiltinDatasets.TryGet("nope", out _));
    }

    [Fact]
    public void Unknown_extension_is_an_error_naming_the_types()
    {
        var ex = Assert.Throws<DatasetException>(() => DataFile.Local("/tmp/data.xlsx"));
        Assert.Contains("unknown data file type; supported: .json, .jsonl, .parquet, .csv, .tsv", ex.Message);
        Assert.Equal(DataFileType.JsonLines, DataFile.Local("/tmp/data.txt", type: DataFileType.JsonLines).Type);
    }

    [Fact]
    public void Row_values_keep_unicode()
    {
        var row = Rows.Of("""{"output": "数据集"}""");
        Assert.Equal("数据集", row.Values["output"]!.GetValue<string>());
        Assert.IsType<JsonObject>(row.Values);
    }
}
