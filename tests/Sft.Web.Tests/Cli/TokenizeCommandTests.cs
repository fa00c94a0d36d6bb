using System.Text.Json;
using Sft.Training.Tokenization;
using Sft.Web.Cli;

namespace Sft.Web.Tests.Cli;

public class TokenizeCommandTests
{
    static async Task<(int Code, string Out, string Err)> Run(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await TokenizeCommand.RunAsync(args, new StringReader(stdin), output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>The repository's copy of the built-in Qwen tokenizer, as a folder.</summary>
    static string QwenFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Training", "Assets", "tokenizers", "qwen");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("src/Training/Assets/tokenizers/qwen not found above " + AppContext.BaseDirectory);
    }

    static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Each_json_string_line_becomes_a_line_of_ids()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "\"Hello, world!\"\n\"你好，世界\"\n\n\"<|im_start|>user\\nhi<|im_end|>\"\n");
            var (code, output, _) = await Run("", "--tokenizer", QwenFolder(), "--input", path);
            Assert.Equal(0, code);
            var qwen = BuiltInTokenizers.LoadQwen();
            Assert.Equal([
                JsonSerializer.Serialize(qwen.Encode("Hello, world!")),
                JsonSerializer.Serialize(qwen.Encode("你好，世界")),
                "[151644,872,198,6023,151645]",
            ], Lines(output));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task Standard_input_is_read_when_there_is_no_input_file()
    {
        var (code, output, _) = await Run("\"Hello\"\n", "--tokenizer", "qwen");
        Assert.Equal(0, code);
        Assert.Equal(["[9707]"], Lines(output));
    }

    [Fact]
    public async Task A_line_that_is_not_a_json_string_is_reported_with_its_number()
    {
        var (code, _, error) = await Run("\"ok\"\nnot json\n", "--tokenizer", "qwen");
        Assert.Equal(1, code);
        Assert.Contains("stdin:2", error);
    }

    [Fact]
    public async Task Dataset_rows_come_out_rendered_with_ids_and_labels()
    {
        var (code, output, error) = await Run("", "--tokenizer", "qwen", "--dataset", "alpaca_zh_demo",
            "--template", "qwen", "--seq-length", "256", "--rows", "3");
        Assert.Equal(0, code);
        var rows = Lines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, rows.Count);
        var qwen = BuiltInTokenizers.LoadQwen();
        foreach (var row in rows)
        {
            var ids = row.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var labels = row.GetProperty("labels").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.Equal(ids.Length, labels.Length);
            Assert.True(ids.Length <= 256);
            Assert.StartsWith("<|im_start|>system\nYou are Qwen", row.GetProperty("text").GetString());
            Assert.StartsWith(qwen.Decode(ids), row.GetProperty("text").GetString());
            Assert.Contains(labels, l => l != -100);
        }
        Assert.Contains("3 samples", error);
        Assert.Contains("template 'qwen'", error);
    }

    [Fact]
    public async Task Usage_errors_name_the_option()
    {
        var e = await Assert.ThrowsAsync<CliUsageException>(() => Run("", "--tokenizer", "qwen", "--seq-length", "64"));
        Assert.Contains("--seq-length applies to --dataset only", e.Message);
        e = await Assert.ThrowsAsync<CliUsageException>(() => Run("", "--tokenizer", "qwen", "--dataset", "alpaca_en_demo", "--template", "vicuna"));
        Assert.Contains("Known templates", e.Message);
        e = await Assert.ThrowsAsync<CliUsageException>(() => Run("", "--tokenizer", "/no/such/folder"));
        Assert.Contains("not a folder", e.Message);
        e = await Assert.ThrowsAsync<CliUsageException>(() => Run("", "--bogus"));
        Assert.Contains("unknown option '--bogus'", e.Message);
    }
}
