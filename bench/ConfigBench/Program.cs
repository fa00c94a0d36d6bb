using System.Diagnostics;
using Sft.Training.Config;

// Times TrainConfigLoader on the embedded examples (file-system checks off, so only reading and validation
// are measured) and on a "billion laughs" document, which must be refused quickly and in little memory.
var iterations = args.Length > 0 ? int.Parse(args[0]) : 200;
var options = new ConfigLoadOptions { CheckFileSystem = false };

foreach (var name in ExampleConfigs.Names)
{
    var yaml = ExampleConfigs.Read(name);
    var first = Stopwatch.StartNew();
    var result = TrainConfigLoader.Load(yaml, options with { SourceName = name });
    var cold = first.Elapsed.TotalMilliseconds;
    var (mean, bytes) = Measure(() => TrainConfigLoader.Load(yaml, options with { SourceName = name }), iterations);
    Console.WriteLine($"{name,-36} {yaml.Length,6:N0} chars  first {cold,7:F1} ms  then {mean,6:F3} ms/load  {bytes / 1024.0,7:F0} KiB allocated/load  " +
                      $"({result.Validation.Errors.Count} errors, {result.Validation.Warnings.Count} warnings, {result.Validation.Ignored.Count} ignored)");
}

var lines = new List<string> { "a0: &a0 [lol]" };
for (var i = 1; i <= 9; i++) lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
var bomb = string.Join('\n', lines);
var (bombMean, bombBytes) = Measure(() => TrainConfigLoader.Load(bomb, options), iterations);
var refused = TrainConfigLoader.Load(bomb, options).Validation.Errors[0];
Console.WriteLine($"{"billion laughs (10^9 nodes expanded)",-36} {bomb.Length,6:N0} chars  refused in {bombMean,6:F3} ms  {bombBytes / 1024.0,7:F0} KiB allocated  ({refused.Position})");

static (double MeanMs, double BytesPerCall) Measure(Action action, int iterations)
{
    for (var i = 0; i < 5; i++) action();
    var before = GC.GetAllocatedBytesForCurrentThread();
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < iterations; i++) action();
    var elapsed = watch.Elapsed.TotalMilliseconds;
    return (elapsed / iterations, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)iterations);
}
