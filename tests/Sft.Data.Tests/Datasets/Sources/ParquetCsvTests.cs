using Parquet.Serialization;
using Sft.Data.Datasets;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Tests.Datasets.Sources;

public class ParquetCsvTests
{
    private sealed class ChatRow
    {
        public string Id { get; set; } = "";
        public List<Message> Messages { get; set; } = [];
        public List<long> InputIds { get; set; } = [];
        public string? System { get; set; }
    }

    private sealed class Message
    {
        public string Role { get; set; } = "";
        public string Content { get; set; } = "";
        public double? LossWeight { get; set; }
    }

    [Fact]
    public async Task Parquet_nested_lists_and_structs_become_json_across_row_groups()
    {
        using var dir = new TempFolder();
        var file = dir.File("chat.parquet");
        var rows = Enumerable.Range(0, 5).Select(i => new ChatRow
        {
            Id = $"r{i}",
            Messages = [new() { Role = "user", Content = $"q{i}", LossWeight = 0 }, new() { Role = "assistant", Content = $"a{i}", LossWeight = 1 }],
            InputIds = [i, i + 1],
            System = i == 0 ? "sys" : null,
        }).ToList();
        await using (var stream = File.Create(file))
            await ParquetSerializer.SerializeAsync(rows, stream, new Parquet.ParquetOptions { RowGroupSize = 2 });

        var read = await Rows.ReadAll(DataFile.Local(file));

        Assert.Equal(5, read.Count);
        Assert.Equal(["Id", "Messages", "InputIds", "System"], read[0].Columns);
        Assert.Equal("chat.parquet row 5", read[4].Location);
        Assert.Equal("a4", (string)read[4].Values["Messages"]![1]!["Content"]!);
        Assert.Equal(1.0, (double)read[4].Values["Messages"]![1]!["LossWeight"]!);
        Assert.Equal([4L, 5L], read[4].Values["InputIds"]!.AsArray().Select(n => (long)n!));
        Assert.Equal("sys", (string)read[0].Values["System"]!);
        Assert.Null(read[1].Values["System"]);
    }

    [Fact]
    public async Task Not_a_parquet_file_is_reported()
    {
        using var dir = new TempFolder();
        var file = dir.Write("broken.parquet", "this is not parquet at all");
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => Rows.ReadAll(DataFile.Local(file)));
        Assert.Contains("broken.parquet", ex.Message);
    }

    [Fact]
    public async Task Csv_rows_carry_the_line_they_start_on_and_quoted_line_breaks_survive()
    {
        using var dir = new TempFolder();
        var file = dir.Write("data.csv", "instruction,input,output\nSay hi,,Hi!\n\"Write two lines\",\"\",\"line one\nline two\"\n\"Quote \"\"this\"\"\",x,\"ok, fine\"\n");

        var rows = await Rows.ReadAll(DataFile.Local(file));

        Assert.Equal(3, rows.Count);
        Assert.Equal("", (string)rows[0].Values["input"]!);
        Assert.Equal("line one\nline two", (string)rows[1].Values["output"]!);
        Assert.Equal("Quote \"this\"", (string)rows[2].Values["instruction"]!);
        Assert.Equal(["data.csv line 2", "data.csv line 3", "data.csv line 5"], rows.Select(r => r.Location));
    }

    [Fact]
    public async Task Csv_with_a_wrong_cell_count_names_the_line()
    {
        using var dir = new TempFolder();
        var file = dir.Write("data.csv", "instruction,output\na,1\nb,2,extra\n");

        var ex = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(file)));

        Assert.Equal("data.csv line 3", ex.Location);
        Assert.Contains("the row has 3 cells but the header has 2 (instruction, output)", ex.Message);
    }

    [Fact]
    public async Task Csv_with_a_stray_quote_names_the_line()
    {
        using var dir = new TempFolder();
        var file = dir.Write("data.csv", "instruction,output\na,1\nb,say \"hi\" now\n");

        var ex = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(file)));

        Assert.StartsWith("data.csv line 3: malformed CSV", ex.Message);
    }

    [Fact]
    public async Task Tsv_and_gzipped_csv_are_read()
    {
        using var dir = new TempFolder();
        var tsv = await Rows.ReadAll(DataFile.Local(dir.Write("data.tsv", "instruction\toutput\nhello, world\thi\n")));
        Assert.Equal("hello, world", (string)tsv.Single().Values["instruction"]!);

        var gz = await Rows.ReadAll(DataFile.Local(dir.WriteGzip("data.csv.gz", "a,b\n1,2\n3,4\n")));
        Assert.Equal(["1", "3"], gz.Select(r => (string)r.Values["a"]!));
    }

    [Fact]
    public async Task Csv_header_problems_are_reported()
    {
        using var dir = new TempFolder();
        var dup = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(dir.Write("dup.csv", "a,a\n1,2\n"))));
        Assert.Contains("names column 'a' twice", dup.Message);
        var empty = await Assert.ThrowsAsync<DatasetException>(() => Rows.ReadAll(DataFile.Local(dir.Write("empty.csv", ""))));
        Assert.Contains("the file is empty", empty.Message);
    }
}
