using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Config;

/// <summary>
/// Submit latency: 100 concurrent clients POST the tiny demo config (application/yaml) to /api/v1/jobs; then list
/// latency while those jobs exist; then every job is cancelled (also timed). The app has no Hangfire worker, so the
/// jobs stay queued and nothing trains (each submit still validates the config and enqueues in Hangfire storage).
/// </summary>
static class SubmitBench
{
    public static async Task RunAsync(BenchApp app, int clients = 100, int perClient = 3)
    {
        var yaml = ExampleConfigs.Read(ExampleConfigs.DemoTiny);
        using var http = app.Client(clients);
        var ids = new ConcurrentBag<string>();
        var warmUp = await SubmitAsync(http, yaml);              // creates builtin:demo-tiny, JIT; cancelled untimed below
        var untimed = new ConcurrentBag<string> { warmUp };
        var alone = await ConcurrentLoad.RunAsync(1, 20, async (_, _) => untimed.Add(await SubmitAsync(http, yaml)));
        Console.WriteLine($"POST /api/v1/jobs (demo_tiny.yaml, application/yaml), 1 client × 20 in sequence: {alone}");
        var submit = await ConcurrentLoad.RunAsync(clients, perClient, async (_, _) => ids.Add(await SubmitAsync(http, yaml)));
        int queued, total;
        await using (var db = app.Db())
        {
            queued = await db.Jobs.CountAsync(j => j.Status == JobStatus.Queued);
            total = await db.Jobs.CountAsync();
        }
        Console.WriteLine($"POST /api/v1/jobs (demo_tiny.yaml, application/yaml), {clients} concurrent clients × {perClient}: {submit}; " +
                          $"{queued} jobs queued in all (the queue has no worker: {app.RemovedWorkers} Hangfire server(s) removed, nothing trains)");

        foreach (var (label, path) in new[] { ("GET /api/v1/jobs?limit=20", "/api/v1/jobs?limit=20"), ("GET /api/v1/jobs?status=queued&limit=100", "/api/v1/jobs?status=queued&limit=100") })
        {
            var list = await ConcurrentLoad.RunAsync(clients, 10, async (_, _) =>
            {
                using var response = await http.GetAsync(path);
                await response.Content.ReadAsByteArrayAsync();
                response.EnsureSuccessStatusCode();
            });
            Console.WriteLine($"{label} while {queued} submitted jobs are queued ({total} jobs in the database), {clients} concurrent clients × 10: {list}");
        }

        foreach (var id in untimed) (await http.PostAsync($"/api/v1/jobs/{id}/cancel", null)).EnsureSuccessStatusCode();
        var toCancel = new ConcurrentQueue<string>(ids);
        var cancel = await ConcurrentLoad.RunAsync(clients, perClient, async (_, _) =>
        {
            if (!toCancel.TryDequeue(out var id)) throw new InvalidOperationException("more cancels than submitted jobs");
            using var response = await http.PostAsync($"/api/v1/jobs/{id}/cancel", null);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"cancel {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        });
        await using (var db = app.Db())
            queued = await db.Jobs.CountAsync(j => j.Status == JobStatus.Queued);
        Console.WriteLine($"POST /api/v1/jobs/{{id}}/cancel for all {ids.Count} timed jobs, {clients} concurrent clients: {cancel}; {queued} left queued");
    }

    static async Task<string> SubmitAsync(HttpClient http, string yaml)
    {
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        using var response = await http.PostAsync("/api/v1/jobs?name=bench-submit", content);
        var body = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"submit: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }
}
