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
/// The watchers goal measured inside one job, for a machine whose load drifts faster than a whole job: N SignalR
/// clients join the job's group and leave it again every few seconds (A = none joined, B = N joined). A step counts
/// for an arm only when its whole interval (end time − step seconds … end time) falls inside one phase; the
/// join/leave calls themselves fall between phases. Tokens/s per arm = Σ tokens / Σ step seconds.
/// </summary>
static class WatchersToggleBench
{
    sealed record Phase(bool Watching, DateTimeOffset From, DateTimeOffset To);

    public static async Task RunAsync(int watchers, int steps, double phaseSeconds)
    {
        await using var app = new BenchApp(workers: true);
        using var http = app.Client();
        var yaml = ExampleConfigs.Read(ExampleConfigs.DemoTiny);
        Console.WriteLine($"watchers toggle bench: one job, demo_tiny.yaml, max_steps {steps}, do_eval False, device cpu; {watchers} SignalR clients " +
                          $"join/leave every {phaseSeconds} s; server and clients in this process, {Environment.ProcessorCount} cores, load {Load()}");
        var pool = await Watchers.ConnectAsync(app, watchers);
        try
        {

            using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
            using var response = await http.PostAsync($"/api/v1/jobs?name=bench-toggle&set=runner_config.max_steps={steps}&set=do_eval=False&set=device=cpu", content);
            var body = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode != 201) throw new InvalidOperationException($"submit: {(int)response.StatusCode} {body}");
            var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

            var phases = new List<Phase>();
            var watching = false;
            var from = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(phaseSeconds));
                JobEntity job;
                await using (var db = app.Db()) job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == id);
                if (job.Status.IsFinished())
                {
                    if (job.Status != JobStatus.Succeeded) throw new InvalidOperationException($"job {id} ended {job.Status}: {job.ErrorCode} {job.ErrorMessage}");
                    phases.Add(new Phase(watching, from, job.FinishedAt ?? DateTimeOffset.UtcNow));
                    break;
                }
                if (clock.Elapsed > TimeSpan.FromMinutes(20)) throw new TimeoutException($"job {id} still {job.Status} after 20 minutes");
                phases.Add(new Phase(watching, from, DateTimeOffset.UtcNow));
                watching = !watching;
                await (watching ? pool.JoinAsync(id, job.CurrentStep) : pool.LeaveAsync(id));
                from = DateTimeOffset.UtcNow;
            }
            await app.Writer.FlushAsync();

            await using var read = app.Db();
            var points = await read.MetricPoints.AsNoTracking()
                .Where(p => p.JobId == id && (p.Name == MetricNames.Tokens || p.Name == MetricNames.StepSeconds)).ToListAsync();
            var seconds = points.Where(p => p.Name == MetricNames.StepSeconds).ToDictionary(p => p.Step);
            var arms = new Dictionary<bool, (double Tokens, double Seconds, int Steps)>();
            foreach (var t in points.Where(p => p.Name == MetricNames.Tokens && p.Step > 1))
            {
                var s = seconds[t.Step];
                var start = s.Time - TimeSpan.FromSeconds(s.Value);
                var phase = phases.FirstOrDefault(ph => ph.From <= start && s.Time <= ph.To);
                if (phase == null) continue;                                 // straddles a join/leave
                var arm = arms.GetValueOrDefault(phase.Watching);
                arms[phase.Watching] = (arm.Tokens + t.Value, arm.Seconds + s.Value, arm.Steps + 1);
            }
            if (!arms.ContainsKey(false) || !arms.ContainsKey(true)) throw new InvalidOperationException($"job {id}: steps fell in one arm only; use more steps or shorter phases.");
            double Rate(bool w) => arms[w].Tokens / arms[w].Seconds;
            var drop = 1 - Rate(true) / Rate(false);
            Console.WriteLine($"  {phases.Count} phases; none joined: {arms[false].Steps} steps, {Rate(false):F1} tok/s; {watchers} joined: {arms[true].Steps} steps, " +
                              $"{Rate(true):F1} tok/s; {pool.Messages / (double)watchers:F1} messages per watcher; load {Load()}");
            Console.WriteLine($"tokens/s with {watchers} SignalR watchers vs none, interleaved in one job: drop {drop:P1}; goal ≤ 2%: {(drop <= 0.02 ? "met" : "missed")}");
        }
        finally
        {
            await pool.DisposeAsync();
        }
    }

    static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
