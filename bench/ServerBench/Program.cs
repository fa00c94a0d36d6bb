using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sft.Data.Persistence;
using Sft.Training.Engine;
using Sft.Web.Api.Models;
using Sft.Web.Live;

/// <summary>The real server in this process on a loopback port, fed through the same ITrainingEventSink a trainer uses.</summary>
static class ServerBench
{
    static async Task<int> Main(string[] args)
    {
        if (args is ["watchers", ..])
        {
            int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;
            await WatchersBench.RunAsync(pairs: Arg(1, 2), watchers: Arg(2, 50), steps: Arg(3, 30));
            return 0;
        }
        if (args is ["watchers-toggle", ..])
        {
            await WatchersToggleBench.RunAsync(watchers: args.Length > 1 ? int.Parse(args[1]) : 50, steps: args.Length > 2 ? int.Parse(args[2]) : 60,
                phaseSeconds: args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 6);
            return 0;
        }
        if (args is ["watchers-cpu", ..])
        {
            await WatcherCpuBench.RunAsync(watchers: args.Length > 1 ? int.Parse(args[1]) : 50,
                stepsPerSecond: args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2, seconds: args.Length > 3 ? int.Parse(args[3]) : 20);
            return 0;
        }
        if (args.Length > 1 || (args.Length == 1 && !int.TryParse(args[0], out _)))
        {
            Console.Error.WriteLine("usage: ServerBench [STEPS_PER_SECOND]   (metric latency, writer, API latency, submit, download)\n" +
                                    "       ServerBench watchers [PAIRS=2] [WATCHERS=50] [STEPS=30]   (tokens/s of a real job with and without watchers)\n" +
                                    "       ServerBench watchers-toggle [WATCHERS=50] [STEPS=60] [PHASE_SECONDS=6]   (watchers join/leave in turns within one job)\n" +
                                    "       ServerBench watchers-cpu [WATCHERS=50] [STEPS_PER_SECOND=2] [SECONDS=20]   (CPU time the watchers cost)");
            return 2;
        }
        var stepsPerSecond = args.Length > 0 ? int.Parse(args[0]) : 20;
        await using var app = new BenchApp();
        var baseAddress = app.BaseAddress;
        Console.WriteLine($"server at {baseAddress}, data in {app.DataDir}, {Environment.ProcessorCount} cores");

        await MetricLatencyAsync(app, stepsPerSecond);
        await WriterThroughputAsync(app);
        await ApiLatencyAsync(app);
        await SubmitBench.RunAsync(app);
        await ZipThroughputAsync(app);
        return 0;
    }

    static async Task MetricLatencyAsync(BenchApp app, int stepsPerSecond)
    {
        const int steps = 200;
        var jobId = await app.AddJobAsync();
        var received = Channel.CreateUnbounded<(DateTimeOffset At, MetricsMessage Message)>();
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(app.BaseAddress, "/hubs/jobs"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(BenchApp.Key))
            .AddJsonProtocol(o => EventJson.Configure(o.PayloadSerializerOptions)).Build();
        hub.On<MetricsMessage>("metrics", m => received.Writer.TryWrite((DateTimeOffset.UtcNow, m)));
        await hub.StartAsync();
        await hub.InvokeAsync("Join", jobId, 0L);
        await received.Reader.ReadAsync();                              // the empty replay

        var sink = app.Writer.SinkFor(jobId);
        var sent = new Dictionary<long, DateTimeOffset>();
        var period = TimeSpan.FromSeconds(1.0 / stepsPerSecond);
        var clock = Stopwatch.StartNew();
        for (var step = 1; step <= steps; step++)
        {
            var at = period * step - clock.Elapsed;
            if (at > TimeSpan.Zero) await Task.Delay(at);
            var e = Step(step, steps);
            sent[step] = e.Time;
            sink.Publish(e);
        }
        var latencies = new List<double>();
        var messages = 0;
        while (latencies.Count < steps)
        {
            var (at, message) = await received.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            messages++;
            foreach (var point in message.Points.Where(p => p.Name == MetricNames.Loss))
                latencies.Add((at - sent[point.Step]).TotalMilliseconds);
        }
        var sorted = new Latencies(latencies, clock.Elapsed);
        Console.WriteLine($"metric latency trainer→SignalR, {steps} steps at {stepsPerSecond}/s: p50 {sorted.Pct(50):F0} ms, " +
                          $"p95 {sorted.Pct(95):F0} ms, max {sorted.Max:F0} ms over {messages} messages ({messages / (steps / (double)stepsPerSecond):F1}/s; goal p95 ≤ 250 ms)");
    }

    static async Task WriterThroughputAsync(BenchApp app)
    {
        const int events = 50_000;
        var jobId = await app.AddJobAsync();
        var sink = app.Writer.SinkFor(jobId);
        var clock = Stopwatch.StartNew();
        for (var step = 1; step <= events; step++) sink.Publish(Step(step, events));
        var queued = clock.Elapsed;
        await app.Writer.FlushAsync();
        clock.Stop();
        Console.WriteLine($"event writer: {events:N0} step events queued in {queued.TotalMilliseconds:F0} ms, stored in {clock.Elapsed.TotalSeconds:F2} s: " +
                          $"{events / clock.Elapsed.TotalSeconds:N0} events/s, {events * 9 / clock.Elapsed.TotalSeconds:N0} metric rows/s (+1 event row each)");
    }

    static async Task ApiLatencyAsync(BenchApp app)
    {
        await using (var db = app.Db())
        {
            var start = DateTimeOffset.UtcNow.AddDays(-1);
            for (var i = 0; i < 1000; i++)
                db.Jobs.Add(new JobEntity { Id = $"ftjob-bench-{i:D4}", Name = "bench", ConfigYaml = "x: 1", Status = JobStatus.Succeeded, CreatedAt = start.AddSeconds(i) });
            await db.SaveChangesAsync();
        }
        var metricsJob = (await app.Db().Jobs.OrderByDescending(j => j.TrainedTokens).FirstAsync()).Id;   // the writer benchmark's job
        foreach (var (label, path) in new[] { ("GET /api/v1/jobs?limit=20", "/api/v1/jobs?limit=20"), ("GET /api/v1/jobs/{id}/metrics (10k points)", $"/api/v1/jobs/{metricsJob}/metrics?limit=10000") })
        {
            const int clients = 100, perClient = 10;
            using var http = app.Client(clients);
            (await http.GetAsync(path)).EnsureSuccessStatusCode();
            var latencies = await ConcurrentLoad.RunAsync(clients, perClient, async (_, _) =>
            {
                using var response = await http.GetAsync(path);
                await response.Content.ReadAsByteArrayAsync();
                response.EnsureSuccessStatusCode();
            });
            Console.WriteLine($"{label}, {clients} concurrent clients × {perClient}: {latencies}");
        }
    }

    static async Task ZipThroughputAsync(BenchApp app)
    {
        const int fileMb = 64, files = 4;
        var jobId = await app.AddJobAsync();
        var folder = Path.Combine(app.DataDir, "jobs", jobId, "checkpoints", "step-1");
        Directory.CreateDirectory(folder);
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(buffer);
        for (var f = 0; f < files; f++)
        {
            await using var stream = File.Create(Path.Combine(folder, $"model-{f:D5}-of-{files:D5}.safetensors"));
            for (var mb = 0; mb < fileMb; mb++) await stream.WriteAsync(buffer);
        }
        app.Writer.SinkFor(jobId).Publish(new CheckpointEvent(1, folder, CheckpointKind.Full, (long)files * fileMb << 20));
        await app.Writer.FlushAsync();

        using var http = app.Client();
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync($"/api/v1/jobs/{jobId}/checkpoints/1/download", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0) total += read;
        clock.Stop();
        Console.WriteLine($"checkpoint zip download: {total / 1e6:F0} MB ({files} × {fileMb} MiB, stored) in {clock.Elapsed.TotalSeconds:F2} s: {total / 1e6 / clock.Elapsed.TotalSeconds:F0} MB/s");
    }

    static readonly MemorySnapshot Memory = MemorySnapshot.OfProcess();

    internal static StepEvent Step(long step, long total) => new(step, total, 1, step / (double)total, 2.0 / Math.Sqrt(step), 1e-4, 0.8,
        2048, 1500, 8, 0.05, 40_000, 160, Memory, TimeSpan.FromSeconds(total - step));
}
