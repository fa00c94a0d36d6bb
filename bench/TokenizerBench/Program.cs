using System.Diagnostics;
using System.Text.Json;
using Sft.Training.Tokenization;

// Tokenizer throughput on the Alpaca demo datasets (every instruction/input/output field), single thread and
// batch-parallel, with the real Qwen tokenizer.
var root = RepoRoot();
if (File.Exists("/proc/loadavg")) Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} cores)");
var texts = new List<string>();
foreach (var name in new[] { "alpaca_en_demo.json", "alpaca_zh_demo.json" })
{
    using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, "src", "Data", "Assets", "datasets", name)));
    foreach (var row in doc.RootElement.EnumerateArray())
        foreach (var field in new[] { "instruction", "input", "output" })
            texts.Add(row.GetProperty(field).GetString() ?? "");
}
var chars = texts.Sum(t => (long)t.Length);

var load = Stopwatch.StartNew();
var tokenizer = HfTokenizer.FromDirectory(BuiltInTokenizers.QwenDirectory);
Console.WriteLine($"load Qwen tokenizer: {load.Elapsed.TotalMilliseconds:F0} ms");

// Warm-up on another instance until the JIT has tiered up, so the first measured pass starts with an empty piece
// cache but steady-state code: what a running server sees when a new dataset arrives.
var warm = HfTokenizer.FromDirectory(BuiltInTokenizers.QwenDirectory);
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

var fresh = HfTokenizer.FromDirectory(BuiltInTokenizers.QwenDirectory);
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

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Sft.Web.sln"))) return dir.FullName;
    throw new DirectoryNotFoundException("Run from inside the repository (Sft.Web.sln not found above " + AppContext.BaseDirectory + ").");
}
