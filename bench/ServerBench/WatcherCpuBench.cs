using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Sft.Web.Api.Models;
using Sft.Web.Live;

/// <summary>
/// What N watchers cost in CPU time, which other load on the machine barely changes (unlike tokens/s): the
/// trainer's event sink publishes step events at a training-like rate while N SignalR clients are joined or not
/// (after one warm-up pair, A/B/A/B), and the process's CPU time per wall second is compared. The extra CPU share of the machine bounds
/// the tokens/s a CPU-bound training job on the same cores would lose.
/// </summary>
static class WatcherCpuBench
{
    public static async Task RunAsync(int watchers, double stepsPerSecond, int seconds)
    {
        await using var app = new BenchApp();
        var jobId = await app.AddJobAsync();
        var pool = await Watchers.ConnectAsync(app, watchers);
        try
        {
            var sink = app.Writer.SinkFor(jobId);
            long step = 0;
            const long total = 1_000_000;
            var arms = new List<(bool Watching, double CpuMsPerS, int Messages)>();
            foreach (var (watching, counted) in new[] { (false, false), (true, false), (false, true), (true, true), (false, true), (true, true) })
            {
                await (watching ? pool.JoinAsync(jobId, step) : pool.LeaveAsync(jobId));
                await Task.Delay(1000);
                var before = pool.Messages;
                var process = Process.GetCurrentProcess();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                var period = TimeSpan.FromSeconds(1 / stepsPerSecond);
                for (var n = 1; clock.Elapsed < TimeSpan.FromSeconds(seconds); n++)
                {
                    sink.Publish(ServerBench.Step(++step, total));
                    var wait = period * n - clock.Elapsed;
                    if (wait > TimeSpan.Zero) await Task.Delay(wait);
                }
                process.Refresh();
                var cpuMsPerS = (process.TotalProcessorTime - cpu).TotalMilliseconds / clock.Elapsed.TotalSeconds;
                if (counted) arms.Add((watching, cpuMsPerS, pool.Messages - before));
                Console.WriteLine($"  {(watching ? watchers : 0),2} watchers: {cpuMsPerS:F1} CPU ms per second, {pool.Messages - before} messages received{(counted ? "" : " (warm-up, not counted)")}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            }
            var idle = arms.Where(a => !a.Watching).Average(a => a.CpuMsPerS);
            var busy = arms.Where(a => a.Watching).Average(a => a.CpuMsPerS);
            var share = (busy - idle) / (Environment.ProcessorCount * 1000);
            Console.WriteLine($"{watchers} SignalR watchers at {stepsPerSecond} steps/s: {busy - idle:F1} CPU ms per second more ({busy:F1} vs {idle:F1}), " +
                              $"{share:P2} of {Environment.ProcessorCount} cores: a CPU-bound job on these cores loses about that much (goal ≤ 2%: {(share <= 0.02 ? "met" : "missed")}); " +
                              $"clients in this process, so this counts both their receiving and the server's sending");
        }
        finally
        {
            await pool.DisposeAsync();
        }
    }
}
