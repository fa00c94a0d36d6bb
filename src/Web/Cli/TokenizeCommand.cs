using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Sft.Data.Datasets;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

namespace Sft.Web.Cli;

/// <summary>
/// <c>tokenize --tokenizer DIR [--input FILE] [--add-special-tokens]</c>: one JSON string per input line (stdin by
/// default) in, one JSON array of ids per line out.
/// <c>tokenize --tokenizer DIR --dataset FILE [--template NAME] [--seq-length N] [--rows N] [--train-on-prompt]</c>:
/// each row rendered through the prompt template, one JSON object per line (source, text, input_ids, labels), and
/// the preparation summary on stderr. <c>--tokenizer qwen</c> names the built-in Qwen tokenizer.
/// </summary>
public static class TokenizeCommand
{
    const string Name = "tokenize";
    static readonly string[] Valued = ["tokenizer", "input", "dataset", "template", "seq-length", "rows", "overflow"];
    static readonly string[] Flags = ["add-special-tokens", "train-on-prompt"];

    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<int> RunAsync(string[] args)
    {
        await using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
        using var stdin = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
        return await RunAsync(args, stdin, stdout, Console.Error);
    }

    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var cli = CliArgs.Parse(Name, args, Valued, Flags);
        HfTokenizer tokenizer;
        try { tokenizer = LoadTokenizer(cli.Require(Name, "tokenizer")); }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            await stderr.WriteLineAsync($"{Name}: {e.Message}");
            return 1;
        }
        if (cli.Get("dataset") is { } dataset)
        {
            if (cli.Has("input")) throw new CliUsageException($"{Name}: use either --input (texts) or --dataset (rows), not both.");
            return await Dataset(cli, tokenizer, dataset, stdout, stderr);
        }
        foreach (var option in new[] { "template", "seq-length", "rows", "overflow", "train-on-prompt" })
            if (cli.Has(option)) throw new CliUsageException($"{Name}: --{option} applies to --dataset only.");
        return await Texts(cli, tokenizer, stdin, stdout, stderr);
    }

    static HfTokenizer LoadTokenizer(string path)
    {
        if (!Directory.Exists(path) && path is "qwen" or "builtin:qwen") return BuiltInTokenizers.LoadQwen();
        if (!Directory.Exists(path)) throw new CliUsageException($"{Name}: --tokenizer '{path}' is not a folder (give a folder with tokenizer.json, or 'qwen' for the built-in one).");
        return HfTokenizer.FromDirectory(path);
    }

    static async Task<int> Texts(CliArgs cli, HfTokenizer tokenizer, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var path = cli.Get("input");
        if (path is not null && !File.Exists(path)) throw new CliUsageException($"{Name}: --input file not found: {path}");
        using var input = path is null ? null : new StreamReader(path, Encoding.UTF8);
        var reader = input ?? stdin;
        var addSpecial = cli.Has("add-special-tokens");
        var lineNo = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            lineNo++;
            if (line.Length == 0) continue;
            string text;
            try { text = JsonSerializer.Deserialize<string>(line) ?? throw new JsonException("null"); }
            catch (JsonException)
            {
                await stderr.WriteLineAsync($"{path ?? "stdin"}:{lineNo}: expected a JSON string such as \"Hello\", got: {Shorten(line)}");
                return 1;
            }
            await stdout.WriteLineAsync(JsonSerializer.Serialize(tokenizer.Encode(text, addSpecial)));
        }
        return 0;
    }

    static async Task<int> Dataset(CliArgs cli, HfTokenizer tokenizer, string dataset, TextWriter stdout, TextWriter stderr)
    {
        PromptTemplate template;
        try { template = PromptTemplates.Resolve(cli.Get("template"), tokenizer); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { throw new CliUsageException($"{Name}: {e.Message}"); }
        var encoder = new ConversationEncoder(tokenizer, template, cli.Has("train-on-prompt"));
        var limit = cli.Get("seq-length") is { } n
            ? new SequenceLimit(PositiveInt(n, "seq-length"), ParseOverflow(cli.Get("overflow")))
            : null;
        var rows = cli.Get("rows") is { } r ? PositiveInt(r, "rows") : int.MaxValue;

        DatasetSplit split;
        try { split = await new DatasetLoader().LoadSplitAsync(new DatasetSpec { Path = dataset }); }
        catch (DatasetException e) { await stderr.WriteLineAsync($"{Name}: {e.Message}"); return 1; }

        int written = 0, truncated = 0, dropped = 0;
        long tokens = 0, lossTokens = 0;
        try
        {
            await foreach (var example in split.ReadExamplesAsync())
            {
                if (written + dropped >= rows) break;
                var rendered = encoder.Render(example);
                var sample = rendered.Sample;
                var outcome = LimitOutcome.Kept;
                if (limit is not null && limit.Apply(sample, out outcome) is { } limited) sample = limited;
                if (outcome == LimitOutcome.Dropped) { dropped++; continue; }
                if (outcome == LimitOutcome.Truncated) truncated++;
                tokens += sample.Length;
                lossTokens += sample.LossTokens;
                written++;
                await stdout.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    source = sample.Source, text = rendered.Text, length = sample.Length,
                    truncated = outcome == LimitOutcome.Truncated, input_ids = sample.InputIds, labels = sample.Labels,
                }, Json));
            }
        }
        catch (Exception e) when (e is DatasetException or InvalidDataException)
        {
            await stderr.WriteLineAsync($"{Name}: {e.Message}");
            return 1;
        }
        await stderr.WriteLineAsync(
            $"{written} samples ({tokens} tokens, {lossTokens} trained) with template '{template.Name}'" +
            (limit is null ? "" : $"; seq_length {limit.SeqLength}: {truncated} truncated, {dropped} dropped"));
        return 0;
    }

    static int PositiveInt(string value, string option) =>
        int.TryParse(value, out var n) && n > 0 ? n : throw new CliUsageException($"{Name}: --{option} must be a positive integer, got '{value}'.");

    static OverflowMode ParseOverflow(string? value) => value switch
    {
        null or "truncate" => OverflowMode.Truncate,
        "drop" => OverflowMode.Drop,
        _ => throw new CliUsageException($"{Name}: --overflow must be 'truncate' or 'drop', got '{value}'."),
    };

    static string Shorten(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
