using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Parquet.Serialization;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;

// Writes the same alpaca-shaped rows (cycled from the built-in alpaca_en_demo) in each layout, then
// reads them back through DatasetLoader into Conversations: one timed pass (rows/s, MB/s) and one pass
// that samples live managed memory after full collections (streaming keeps it far below the file size).
int rows = args.Length > 0 ? int.Parse(args[0]) : 200_000;
var folder = Path.Combine(Path.GetTempPath(), "sft-data-bench-" + Environment.ProcessId);
Directory.CreateDirectory(folder);
try
{
    var names = await WriteFilesAsync(folder, rows);
    Console.WriteLine($"{rows:N0} alpaca rows per file, read into Conversations via DatasetLoader ({Environment.ProcessorCount} cores)");
    Console.WriteLine($"{"file",-14}{"size MB",9}{"rows/s",12}{"MB/s",9}{"live MB",9}");
    var loader = new DatasetLoader();
    foreach (var name in names)
    {
        var path = Path.Combine(folder, name);
        var split = await loader.LoadSplitAsync(new DatasetSpec { Path = path });

        var clock = Stopwatch.StartNew();
        long count = 0;
        await foreach (var _ in split.ReadExamplesAsync()) count++;
        clock.Stop();
        if (count != rows) throw new InvalidOperationException($"{name}: read {count} rows, wrote {rows}");

        long before = GC.GetTotalMemory(true), peak = before, seen = 0;
        await foreach (var _ in split.ReadExamplesAsync())
            if (++seen % 20_000 == 0) peak = Math.Max(peak, GC.GetTotalMemory(true));

        double mb = new FileInfo(path).Length / 1e6;
        Console.WriteLine($"{name,-14}{mb,9:F1}{count / clock.Elapsed.TotalSeconds,12:N0}{mb / clock.Elapsed.TotalSeconds,9:F1}{(peak - before) / 1e6,9:F1}");
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static async Task<string[]> WriteFilesAsync(string folder, int rows)
{
    var source = new List<AlpacaRow>();
    BuiltinDatasets.TryGet("alpaca_en_demo", out var demo);
    await foreach (var row in DataFileReader.ReadAsync(demo))
        source.Add(new AlpacaRow { instruction = (string)row.Values["instruction"]!, input = (string)row.Values["input"]!, output = (string)row.Values["output"]! });
    var data = Enumerable.Range(0, rows).Select(i => source[i % source.Count]).ToList();
    string P(string name) => Path.Combine(folder, name);

    await File.WriteAllLinesAsync(P("data.jsonl"), data.Select(r => JsonSerializer.Serialize(r)));
    await using (var json = File.Create(P("data.json")))
        await JsonSerializer.SerializeAsync(json, data, new JsonSerializerOptions { WriteIndented = true });
    await using (var gz = new GZipStream(File.Create(P("data.json.gz")), CompressionLevel.Fastest))
        await JsonSerializer.SerializeAsync(gz, data);
    await using (var parquet = File.Create(P("data.parquet")))
        await ParquetSerializer.SerializeAsync(data, parquet, new Parquet.ParquetOptions { RowGroupSize = 10_000 });
    await File.WriteAllLinesAsync(P("data.csv"), data.Select(r => $"{Csv(r.instruction)},{Csv(r.input)},{Csv(r.output)}").Prepend("instruction,input,output"));
    return ["data.jsonl", "data.json", "data.json.gz", "data.parquet", "data.csv"];
}

static string Csv(string value) => "\"" + value.Replace("\"", "\"\"") + "\"";

internal sealed class AlpacaRow
{
    public string instruction { get; set; } = "";
    public string input { get; set; } = "";
    public string output { get; set; } = "";
}
