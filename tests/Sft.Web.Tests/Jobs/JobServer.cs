using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Sft.Web.Tests.Jobs;

/// <summary>A real server process on a data folder with a bootstrap admin key and quick queue polling, and the REST
/// calls the job tests make.</summary>
public sealed class JobServer : IAsyncDisposable
{
    public const string Key = "sft_job-server-test-key-0123456789abcdef";

    JobServer(ServerProcess process)
    {
        Process = process;
        Http = new HttpClient { BaseAddress = process.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
    }

    public ServerProcess Process { get; }
    public HttpClient Http { get; }

    /// <param name="settings">more environment settings (they win over the ones here).</param>
    public static async Task<JobServer> StartAsync(string dataDir, string invisibilityTimeout = "00:00:03",
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Auth__BootstrapApiKey"] = Key,
            ["Sft__Queue__QueuePollInterval"] = "00:00:00.200",
            ["Sft__Queue__InvisibilityTimeout"] = invisibilityTimeout,
            ["Sft__Queue__ShutdownTimeout"] = "00:00:05",
            ["Sft__Queue__Devices__0"] = "cpu",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>()) environment[name] = value;
        return new(await ServerProcess.StartAsync(dataDir, environment));
    }

    /// <summary>Submits a YAML config; returns the created job.</summary>
    public async Task<JsonElement> SubmitAsync(string yaml, string? name = null)
    {
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        using var response = await Http.PostAsync(name == null ? "/api/v1/jobs" : $"/api/v1/jobs?name={Uri.EscapeDataString(name)}", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<JsonElement> GetAsync(string path) =>
        JsonDocument.Parse(await Http.GetStringAsync(path)).RootElement.Clone();

    public async Task<JsonElement> PostAsync(string path)
    {
        using var response = await Http.PostAsync(path, null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Polls the job until <paramref name="done"/> holds; fails with the job and the server's output on timeout.</summary>
    public async Task<JsonElement> WaitForAsync(string id, Func<JsonElement, bool> done, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonElement job = default;
        while (DateTime.UtcNow < deadline)
        {
            job = await GetAsync($"/api/v1/jobs/{id}");
            if (done(job)) return job;
            await Task.Delay(50);
        }
        throw new TimeoutException($"job {id} did not get there in {seconds} s: {job}\n{string.Join('\n', Process.Output.TakeLast(60))}");
    }

    public Task<JsonElement> WaitForStatusAsync(string id, string status, int seconds = 120) =>
        WaitForAsync(id, j =>
        {
            var s = j.GetProperty("status").GetString();
            if (s == "failed" && status != "failed") throw new Xunit.Sdk.XunitException($"job {id} failed: {j}");
            return s == status;
        }, seconds);

    /// <summary>Every event of a job, following the <c>after</c> cursor.</summary>
    public async Task<List<JsonElement>> EventsAsync(string id)
    {
        var events = new List<JsonElement>();
        string? after = null;
        while (true)
        {
            var page = await GetAsync($"/api/v1/jobs/{id}/events?limit=1000" + (after == null ? "" : $"&after={after}"));
            var data = page.GetProperty("data").EnumerateArray().ToList();
            events.AddRange(data);
            if (!page.GetProperty("has_more").GetBoolean() || data.Count == 0) return events;
            after = data[^1].GetProperty("id").GetString();
        }
    }

    public async Task<List<long>> CheckpointStepsAsync(string id) =>
        (await GetAsync($"/api/v1/jobs/{id}/checkpoints?limit=100")).GetProperty("data").EnumerateArray()
            .Select(c => c.GetProperty("step_number").GetInt64()).ToList();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}
