using System.Diagnostics;
using Sft.Data.Datasets;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Training.Pipeline;
using Sft.Training.Tokenization;
using Sft.Training.Tokenization.Templates;

// Tokenizer throughput and dataset preparation time with the real Qwen tokenizer on the built-in Alpaca demo
// datasets (alpaca_en_demo: 999 rows, alpaca_zh_demo: 1,000 rows).
if (File.Exists("/proc/loadavg")) Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} cores)");

var datasets = new Dictionary<string, List<DatasetExample>>();
foreach (var name in new[] { "alpaca_en_demo", "alpaca_zh_demo" })
{
    var split = await new DatasetLoader().LoadSplitAsync(new DatasetSpec { Path = name });
    datasets[name] = split.Examples().ToList();
}
// Every instruction, input and output field as a text of its own.
var texts = datasets.Values.SelectMany(rows => rows).SelectMany(e =>
    new[] { e.Conversation!.Alpaca!.Instruction, e.Conversation.Alpaca.Input, e.Conversation.Turns[^1].Content }).ToList();
var chars = texts.Sum(t => (long)t.Length);

var load = Stopwatch.StartNew();
var tokenizer = BuiltInTokenizers.Create("qwen");
Console.WriteLine($"load Qwen tokenizer: {load.Elapsed.TotalMilliseconds:F0} ms");

// Warm-up on another instance until the JIT has tiered up, so first passes below start with an empty piece cache
// but steady-state code: what a running server sees when a new dataset arrives.
var warm = BuiltInTokenizers.Create("qwen");
for (var r = 0; r < 3; r++) { foreach (var t in texts) warm.Encode(t); warm.EncodeBatch(texts); }
Thread.Sleep(1000);
Settle();

var tokens = 0L;
var sw = Stopwatch.StartNew();
foreach (var t in texts) tokens += tokenizer.Encode(t).Length;
var cold = sw.Elapsed.TotalSeconds;
Console.WriteLine($"corpus: {texts.Count} texts, {chars:N0} chars, {tokens:N0} tokens");
Console.WriteLine($"encode, 1 thread, first pass (empty piece cache): {tokens / cold / 1e6:F2} M tokens/s ({cold * 1000:F0} ms)");
Measure("encode, 1 thread, cached pieces", () => { foreach (var t in texts) tokenizer.Encode(t); });

var fresh = BuiltInTokenizers.Create("qwen");
Settle();
sw.Restart();
fresh.EncodeBatch(texts);
cold = sw.Elapsed.TotalSeconds;
Console.WriteLine($"encode batch, {Environment.ProcessorCount} threads, first pass: {tokens / cold / 1e6:F2} M tokens/s ({cold * 1000:F0} ms)");
Measure($"encode batch, {Environment.ProcessorCount} threads, cached pieces", () => fresh.EncodeBatch(texts));

var all = texts.Select(t => tokenizer.Encode(t)).ToList();
sw.Restart();
for (var r = 0; r < 3; r++) foreach (var ids in all) tokenizer.Decode(ids);
Console.WriteLine($"decode: {3 * tokens / sw.Elapsed.TotalSeconds / 1e6:F2} M tokens/s");

// Dataset preparation: render through the template, tokenize every segment, labels, seq_length limit; then one
// epoch of batches (8 rows of up to 1,024 tokens) for each packing strategy.
Console.WriteLine();
foreach (var (name, rows) in datasets)
{
    foreach (var templateName in new[] { "qwen", "mindformers_alpaca" })
    {
        var first = BuiltInTokenizers.Create("qwen");
        Settle();
        var encoder = new ConversationEncoder(first, PromptTemplates.Get(templateName));
        var data = TokenizedDataset.Prepare(rows, encoder, new SequenceLimit(1024));
        var again = TokenizedDataset.Prepare(rows, encoder, new SequenceLimit(1024));
        var r = data.Report;
        Console.WriteLine($"prepare {name} ({r.Rows} rows) with '{templateName}': {r.Elapsed.TotalMilliseconds:F0} ms first, " +
                          $"{again.Report.Elapsed.TotalMilliseconds:F0} ms again; {r.Samples} samples, {r.Tokens:N0} tokens, " +
                          $"{r.LossTokens:N0} trained, {r.Truncated} truncated");
        foreach (var packing in new[] { PackingStrategy.None, PackingStrategy.Pack, PackingStrategy.Truncate })
        {
            var loader = new BatchLoader(data.Samples, new BatchingOptions(BatchSize: 8, SeqLength: 1024, Packing: packing), first.Special.Pad);
            var batches = loader.BatchesInEpoch(0);
            long cells = 0, real = 0;
            sw.Restart();
            for (var b = 0; b < batches; b++)
            {
                using var batch = loader.Next();
                cells += batch.Rows * batch.Columns;
                real += batch.TokenCount;
            }
            Console.WriteLine($"  one epoch, packing {packing}: {batches} batches in {sw.Elapsed.TotalMilliseconds:F0} ms, " +
                              $"{100.0 * real / cells:F1}% of cells are tokens");
        }
    }
}

// Collect the garbage of loading (an 11 MB JSON document) so it is not charged to the pass measured next.
static void Settle()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
}

void Measure(string label, Action run)
{
    var best = double.MaxValue;
    for (var r = 0; r < 5; r++)
    {
        var w = Stopwatch.StartNew();
        run();
        best = Math.Min(best, w.Elapsed.TotalSeconds);
    }
    Console.WriteLine($"{label}: {tokens / best / 1e6:F2} M tokens/s (best of 5, {best * 1000:F0} ms per pass)");
}
