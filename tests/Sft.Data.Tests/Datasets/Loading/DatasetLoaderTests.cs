using Sft.Data.Datasets;
using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Tests.Datasets.Loading;

public class DatasetLoaderTests
{
    private readonly DatasetLoader _loader = new();

    [Fact]
    public async Task Builtin_alpaca_demo_loads_all_rows_as_conversations()
    {
        var split = await _loader.LoadSplitAsync(new DatasetSpec { Path = "alpaca_en_demo" });

        Assert.Equal(DatasetFormat.Alpaca, await split.DetectFormatAsync());
        Assert.Equal(999, await split.CountAsync());
        var examples = split.Examples().ToList();
        Assert.Equal(999, examples.Count);
        Assert.All(examples, e => Assert.Equal(Role.Assistant, e.Conversation!.Turns[^1].Role));
        Assert.Equal("Describe a process of making crepes.", examples[0].Conversation!.Alpaca!.Instruction);
    }

    [Fact]
    public async Task Builtin_messages_demo_keeps_loss_weights()
    {
        var split = await _loader.LoadSplitAsync(new DatasetSpec { Path = "v1_sft_demo" });

        Assert.Equal(DatasetFormat.Messages, await split.DetectFormatAsync());
        var examples = split.Examples().ToList();
        Assert.Equal(500, examples.Count);
        var first = examples[0].Conversation!;
        Assert.Equal(new Turn(Role.User, "hi", 0.0), first.Turns[0]);
        Assert.Equal(1.0, first.Turns[1].LossWeight);
        Assert.Equal("v1_sft_demo.jsonl line 1", examples[0].Source);
    }

    [Fact]
    public async Task Slices_take_part_of_a_split()
    {
        var head = await _loader.LoadSplitAsync(new DatasetSpec { Path = "alpaca_en_demo", Split = "train[:90%]" });
        var tail = await _loader.LoadSplitAsync(new DatasetSpec { Path = "alpaca_en_demo", Split = "train[90%:]" });

        Assert.Equal(899, await head.CountAsync());
        Assert.Equal(100, await tail.CountAsync());
        var firstTail = await tail.ReadExamplesAsync().FirstAsync();
        var all = (await _loader.LoadSplitAsync(new DatasetSpec { Path = "alpaca_en_demo" })).Examples().ToList();
        Assert.Equal(all[899].Source, firstTail.Source);
        Assert.Equal(all[899].Conversation!.Turns, firstTail.Conversation!.Turns);
    }

    [Fact]
    public async Task Folder_splits_by_file_name_and_reads_each_split()
    {
        using var dir = new TempFolder();
        dir.Write("train.jsonl", "{\"instruction\": \"a\", \"output\": \"1\"}\n{\"instruction\": \"b\", \"output\": \"2\"}\n");
        dir.Write("validation.jsonl", "{\"instruction\": \"c\", \"output\": \"3\"}\n");
        dir.Write("README.md", "# my data");

        var source = await _loader.ResolveAsync(new DatasetSpec { Path = dir.Path });
        Assert.Equal(DatasetOrigin.LocalFolder, source.Origin);
        Assert.Equal(["train", "validation"], source.SplitNames);

        var validation = await _loader.LoadSplitAsync(new DatasetSpec { Path = dir.Path, Split = "validation" });
        Assert.Equal("c", validation.Examples().Single().Conversation!.Turns[0].Content);
    }

    [Fact]
    public async Task Explicit_format_and_mapping_read_a_csv()
    {
        using var dir = new TempFolder();
        var file = dir.Write("qa.csv", "question,answer\nWhat is 2+2?,4\nCapital of France?,Paris\n");
        var spec = new DatasetSpec
        {
            Path = file,
            Format = DatasetFormat.Alpaca,
            Columns = ColumnMapping.Parse(new Dictionary<string, string> { ["instruction"] = "question", ["output"] = "answer" }),
        };

        var examples = (await _loader.LoadSplitAsync(spec)).Examples().ToList();

        Assert.Equal(["4", "Paris"], examples.Select(e => e.Conversation!.Turns[^1].Content));
        Assert.Equal("qa.csv line 3", examples[1].Source);
    }

    [Fact]
    public async Task Bad_row_stops_the_read_with_its_file_and_line()
    {
        using var dir = new TempFolder();
        var file = dir.Write("d.jsonl", "{\"instruction\": \"a\", \"output\": \"1\"}\n{\"instruction\": \"b\", \"output\": \"\"}\n");
        var split = await _loader.LoadSplitAsync(new DatasetSpec { Path = file });

        var ex = Assert.Throws<DatasetException>(() => split.Examples().ToList());
        Assert.StartsWith("d.jsonl line 2: empty assistant reply", ex.Message);
    }

    [Fact]
    public async Task Empty_dataset_is_an_error()
    {
        using var dir = new TempFolder();
        var file = dir.Write("d.jsonl", "\n\n");
        var split = await _loader.LoadSplitAsync(new DatasetSpec { Path = file });

        var ex = await Assert.ThrowsAsync<DatasetException>(() => split.DetectFormatAsync());
        Assert.Contains("empty dataset: split 'train' of", ex.Message);
        Assert.Contains("has no rows (files: d.jsonl)", ex.Message);
    }

    [Fact]
    public async Task Preview_shows_raw_rows_and_why_the_format_is_unknown()
    {
        using var dir = new TempFolder();
        var file = dir.Write("d.jsonl", "{\"prompt\": \"a\", \"response\": \"1\"}\n{\"prompt\": \"b\", \"response\": \"2\"}\n{\"prompt\": \"c\", \"response\": \"3\"}\n");
        var split = await _loader.LoadSplitAsync(new DatasetSpec { Path = file });

        var preview = await split.PreviewAsync(rows: 2);

        Assert.Equal(["prompt", "response"], preview.Columns);
        Assert.Equal(2, preview.Rows.Count);
        Assert.Null(preview.Format);
        Assert.Contains("columns: {instruction: prompt, output: response}", preview.FormatError);
    }

    [Fact]
    public async Task Stats_profile_columns_and_examples()
    {
        using var dir = new TempFolder();
        var file = dir.Write("d.jsonl",
            "{\"instruction\": \"abcd\", \"input\": \"\", \"output\": \"xy\"}\n" +
            "{\"instruction\": \"ab\", \"input\": \"in\", \"output\": \"wxyz\"}\n" +
            "{\"instruction\": \"a\", \"input\": null, \"output\": \"\"}\n");
        var split = await _loader.LoadSplitAsync(new DatasetSpec { Path = file });

        var stats = await split.ComputeStatsAsync();

        Assert.Equal(3, stats.Rows);
        Assert.Equal(DatasetFormat.Alpaca, stats.Format);
        var instruction = stats.Columns.Single(c => c.Name == "instruction");
        Assert.Equal(new LengthStats(1, 7 / 3.0, 4), instruction.TextLength);
        var input = stats.Columns.Single(c => c.Name == "input");
        Assert.Equal((3, 1, 1), (input.Present, input.Nulls, input.Empty));
        Assert.Equal(2, input.Kinds["string"]);
        Assert.Equal(2, stats.Examples.Valid);
        Assert.Equal(1, stats.Examples.Invalid);
        Assert.Contains("d.jsonl line 3: empty assistant reply", stats.Examples.FirstError);
        Assert.Equal(new LengthStats(2, 3, 4), stats.Examples.AssistantChars);
        Assert.Equal(new LengthStats(2, 2, 2), stats.Examples.Turns);
    }

    [Fact]
    public async Task Unknown_path_says_what_a_path_can_be()
    {
        var ex = await Assert.ThrowsAsync<DatasetException>(() => _loader.ResolveAsync(new DatasetSpec { Path = "/no/such/file.json" }));
        Assert.Contains("is not a local file or folder, a built-in dataset (alpaca_en_demo, alpaca_zh_demo, identity, v1_sft_demo) or a Hugging Face dataset id", ex.Message);
    }

    [Fact]
    public async Task Folder_without_data_files_lists_what_it_found()
    {
        using var dir = new TempFolder();
        dir.Write("notes.txt", "x");
        var ex = await Assert.ThrowsAsync<DatasetException>(() => _loader.ResolveAsync(new DatasetSpec { Path = dir.Path }));
        Assert.Contains("has no data files (json, jsonl, parquet, csv, tsv, optionally .gz). Files found: notes.txt", ex.Message);
    }
}
