using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sft.Data.Persistence;
using Sft.Training.Config;
using Sft.Web.Api.Models;
using Sft.Web.Live;

/// <summary>
/// Issue 7's live-watching goal: the same real training job (demo_tiny.yaml on the CPU queue of the real server)
/// with 0 and with N SignalR clients joined to its group, alternating A/B/A/B so machine-load drift falls on both
/// arms. Tokens/s of a run = Σ tokens / Σ step seconds over the steps after the first <see cref="SkipSteps"/>
/// (as the trainer reports them), and wall tokens/s between the first counted step and the last.
/// </summary>
static class WatchersBench
{
    const int SkipSteps = 3;

    sealed record Run(int Watchers, double TokensPerS, double WallTokensPerS, long Steps, double MessagesPerWatcher);

    public static async Task RunAsync(int pairs, int watchers, int steps)
    {
        await using var app = new BenchApp(workers: true);
        using var http = app.Client();
        var yaml = ExampleConfigs.Read(ExampleConfigs.DemoTiny);
        Console.WriteLine($"watchers bench: demo_tiny.yaml, max_steps {steps}, do_eval False, device cpu; {pairs} pairs A(0)/B({watchers}); " +
                          $"first {SkipSteps} steps not counted; server and clients in this process, {Environment.ProcessorCount} cores, load {Load()}");
        var warm = await RunJobAsync(app, http, yaml, 0, SkipSteps + 3);   // builds the demo model, JIT, tokenizer: not counted
        Console.WriteLine($"warm-up job: {warm.TokensPerS:F0} tok/s");

        var runs = new List<Run>();
        for (var pair = 0; pair < pairs; pair++)
            foreach (var n in new[] { 0, watchers })
            {
                var run = await RunJobAsync(app, http, yaml, n, steps);
                runs.Add(run);
                Console.WriteLine($"  run {runs.Count}: {n,2} watchers: {run.TokensPerS:F1} tok/s (step), {run.WallTokensPerS:F1} tok/s (wall), " +
                                  $"{run.Steps} steps counted, {run.MessagesPerWatcher:F1} messages per watcher; load {Load()}");
            }
        double Median(IEnumerable<double> v) { var s = v.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
        var a = runs.Where(r => r.Watchers == 0).ToList();
        var b = runs.Where(r => r.Watchers == watchers).ToList();
        var drop = 1 - Median(b.Select(r => r.TokensPerS)) / Median(a.Select(r => r.TokensPerS));
        var wallDrop = 1 - Median(b.Select(r => r.WallTokensPerS)) / Median(a.Select(r => r.WallTokensPerS));
        var pairDrops = Enumerable.Range(0, pairs).Select(i => 1 - runs[2 * i + 1].TokensPerS / runs[2 * i].TokensPerS).ToList();
        Console.WriteLine($"tokens/s with {watchers} SignalR watchers vs none (median of {pairs}): {Median(b.Select(r => r.TokensPerS)):F1} vs " +
                          $"{Median(a.Select(r => r.TokensPerS)):F1}: drop {drop:P1} (wall: {wallDrop:P1}); per pair {string.Join(", ", pairDrops.Select(d => d.ToString("P1")))}; " +
                          $"goal ≤ 2%: {(drop <= 0.02 ? "met" : "missed")}");
    }

    static async Task<Run> RunJobAsync(BenchApp app, HttpClient http, string yaml, int watchers, int steps)
    {
        var pool = await Watchers.ConnectAsync(app, watchers);
        try
        {

            using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
            var query = $"?name=bench-watchers-{watchers}&set=runner_config.max_steps={steps}&set=do_eval=False&set=device=cpu";
            using var response = await http.PostAsync("/api/v1/jobs" + query, content);
            var body = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode != 201) throw new InvalidOperationException($"submit: {(int)response.StatusCode} {body}");
            var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
            await pool.JoinAsync(id, 0L);

            var clock = Stopwatch.StartNew();
            while (true)
            {
                await Task.Delay(250);
                await using var db = app.Db();
                var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == id);
                if (job.Status == JobStatus.Succeeded) break;
                if (job.Status.IsFinished()) throw new InvalidOperationException($"job {id} ended {job.Status}: {job.ErrorCode} {job.ErrorMessage}");
                if (clock.Elapsed > TimeSpan.FromMinutes(15)) throw new TimeoutException($"job {id} still {job.Status} after 15 minutes");
            }
            await app.Writer.FlushAsync();
            return await ThroughputAsync(app, id, watchers, watchers == 0 ? 0 : pool.Messages / (double)watchers);
        }
        finally
        {
            await pool.DisposeAsync();
        }
    }

    static async Task<Run> ThroughputAsync(BenchApp app, string id, int watchers, double messagesPerWatcher)
    {
        await using var db = app.Db();
        var points = await db.MetricPoints.AsNoTracking()
            .Where(p => p.JobId == id && p.Step > SkipSteps && (p.Name == MetricNames.Tokens || p.Name == MetricNames.StepSeconds))
            .ToListAsync();
        var tokens = points.Where(p => p.Name == MetricNames.Tokens).ToList();
        var seconds = points.Where(p => p.Name == MetricNames.StepSeconds).Sum(p => p.Value);
        if (tokens.Count < 2) throw new InvalidOperationException($"job {id}: only {tokens.Count} steps after step {SkipSteps}; raise the step count.");
        var ordered = tokens.OrderBy(p => p.Step).ToList();
        var wall = (ordered[^1].Time - ordered[0].Time).TotalSeconds;   // the first counted step's tokens fall before this span
        return new Run(watchers, tokens.Sum(p => p.Value) / seconds, ordered.Skip(1).Sum(p => p.Value) / wall, tokens.Count, messagesPerWatcher);
    }

    static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
