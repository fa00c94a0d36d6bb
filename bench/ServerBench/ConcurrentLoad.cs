using System.Diagnostics;

/// <summary>N clients each making M requests back to back, all clients at once; the latency of every request.</summary>
static class ConcurrentLoad
{
    public static async Task<Latencies> RunAsync(int clients, int perClient, Func<int, int, Task> request)
    {
        var latencies = new List<double>(clients * perClient);
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            await Task.Yield();
            for (var i = 0; i < perClient; i++)
            {
                var one = Stopwatch.StartNew();
                await request(client, i);
                lock (latencies) latencies.Add(one.Elapsed.TotalMilliseconds);
            }
        }));
        wall.Stop();
        return new Latencies(latencies, wall.Elapsed);
    }
}

/// <summary>Request latencies in milliseconds, sorted, with the wall time they took together.</summary>
sealed class Latencies
{
    readonly List<double> _sorted;

    public Latencies(IEnumerable<double> ms, TimeSpan wall)
    {
        _sorted = ms.Order().ToList();
        Wall = wall;
    }

    public TimeSpan Wall { get; }
    public int Count => _sorted.Count;
    public double Max => _sorted[^1];

    public double Pct(int p) => _sorted[Math.Min(_sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * _sorted.Count) - 1)];

    public override string ToString() =>
        $"p50 {Pct(50):F0} ms, p95 {Pct(95):F0} ms, max {Max:F0} ms, {Count / Wall.TotalSeconds:N0} req/s";
}
