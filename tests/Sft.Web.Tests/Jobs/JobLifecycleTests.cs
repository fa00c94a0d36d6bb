using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Sft.Training.Checkpoints;
using Sft.Training.Engine;
using Sft.Training.Tests;
using Sft.Training.Tests.Engine;
using static TorchSharp.torch;

namespace Sft.Web.Tests.Jobs;

/// <summary>Jobs through the real server process: REST submit, Hangfire run, checkpoints, download; crash and cancel.</summary>
public sealed class JobLifecycleTests : IDisposable
{
    const string Key = "sft_lifecycle_test_key_0123456789";
    readonly TempDir _dir = new();

    static readonly Dictionary<string, string> Environment = new()
    {
        ["Auth__BootstrapApiKey"] = Key,
        ["Sft__Queue__InvisibilityTimeout"] = "00:00:05",
        ["Sft__Queue__QueuePollInterval"] = "00:00:00.500",
    };

    string Yaml(int maxSteps, int saveSteps) => TrainerFixtures.Yaml(TestAssets.Reference("qwen2_tied", "model"),
        TrainerFixtures.RandomDataset(_dir.Path, rows: 40), "ignored-by-the-server", lr: 2e-3, maxSteps: maxSteps, batch: 2, accumulation: 2,
        shuffle: true, saveSteps: saveSteps, keep: 3);

    static HttpClient Client(ServerProcess server)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return client;
    }

    static async Task<string> SubmitAsync(HttpClient client, string yaml)
    {
        var response = await client.PostAsync("/api/v1/jobs", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("queued", doc.RootElement.GetProperty("status").GetString());
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    static async Task<JsonElement> WaitForAsync(HttpClient client, string id, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}");
            if (done(job)) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job {id} is still {job}");
            await Task.Delay(250);
        }
    }

    static string Status(JsonElement job) => job.GetProperty("status").GetString()!;

    [Fact]
    public async Task A_job_submitted_over_rest_trains_and_its_checkpoint_downloads_as_a_loadable_model()
    {
        await using var server = await ServerProcess.StartAsync(_dir["data"], Environment);
        using var client = Client(server);
        var id = await SubmitAsync(client, Yaml(maxSteps: 6, saveSteps: 3));
        var job = await WaitForAsync(client, id, j => Status(j) is "succeeded" or "failed", TimeSpan.FromMinutes(3));
        Assert.True(Status(job) == "succeeded", job.ToString());

        var events = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}/events?limit=1000");
        Assert.Contains(events.GetProperty("data").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("Status: running"));
        var checkpoints = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}/checkpoints");
        var steps = checkpoints.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("step_number").GetInt64()).ToList();
        Assert.Contains(6L, steps);

        var zip = await client.GetByteArrayAsync($"/api/v1/jobs/{id}/checkpoints/6/download");
        var unpacked = _dir["unpacked"];
        ZipFile.ExtractToDirectory(new MemoryStream(zip), unpacked);
        using var model = HfModelFolder.Load(unpacked);
        Assert.Equal(512, model.Config.VocabSize);
        Assert.True(File.Exists(Path.Combine(unpacked, CheckpointStore.StateFileName)));
        // The server wrote under its own data folder, not where the YAML pointed.
        Assert.True(Directory.Exists(Path.Combine(_dir["data"], "jobs", id, "output", "checkpoints", "step-6")));
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "ignored-by-the-server")));
    }

    [Fact]
    public async Task Bad_configs_are_400s_naming_key_and_line_and_nothing_is_queued()
    {
        await using var server = await ServerProcess.StartAsync(_dir["data"], Environment);
        using var client = Client(server);
        var typo = Yaml(4, 2).Replace("learning_rate:", "learnig_rate:");
        var response = await client.PostAsync("/api/v1/jobs", new StringContent(typo, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_config", problem.GetProperty("code").GetString());
        Assert.StartsWith("lr_schedule", problem.GetProperty("param").GetString());
        Assert.Contains(problem.GetProperty("issues").EnumerateArray(), i => i.GetProperty("line").GetInt32() > 0 && i.GetProperty("message").GetString()!.Contains("learnig_rate"));

        response = await client.PostAsync("/api/v1/jobs", new StringContent("seed: [unclosed", Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var syntax = await response.Content.ReadAsStringAsync();
        Assert.Contains("config.yaml:", syntax);
        Assert.Contains("YAML syntax error", syntax);

        response = await client.PostAsJsonAsync("/api/v1/jobs", new { name = "no config" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("config_yaml", await response.Content.ReadAsStringAsync());

        response = await client.PostAsync("/api/v1/jobs", new StringContent("x", Encoding.UTF8, "application/octet-stream"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/v1/jobs/ftjob-nope/cancel", null)).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/jobs", new StringContent(Yaml(4, 2), Encoding.UTF8, "application/yaml"))).StatusCode);

        var jobs = await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs");
        Assert.Empty(jobs.GetProperty("data").EnumerateArray());
    }

    /// <summary>The server killed outright mid-job comes back, hands the job out again, and it finishes from its
    /// checkpoint with the same weights as a run that was never interrupted.</summary>
    [Fact]
    public async Task A_server_killed_mid_job_finishes_it_from_the_checkpoint_with_the_same_weights()
    {
        var yaml = Yaml(maxSteps: 30, saveSteps: 3);
        string id;
        await using (var server = await ServerProcess.StartAsync(_dir["data"], Environment))
        {
            using var client = Client(server);
            id = await SubmitAsync(client, yaml);
            await WaitForAsync(client, id, j => j.GetProperty("progress").GetProperty("current_step").GetInt64() >= 8, TimeSpan.FromMinutes(3));
        }                                                                     // SIGKILL
        await using (var again = await ServerProcess.StartAsync(_dir["data"], Environment))
        {
            using var client = Client(again);
            var job = await WaitForAsync(client, id, j => Status(j) is "succeeded" or "failed", TimeSpan.FromMinutes(3));
            Assert.True(Status(job) == "succeeded", job.ToString());
            var events = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}/events?limit=1000");
            Assert.Contains(events.GetProperty("data").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("resumed from"));
            Assert.True(job.GetProperty("attempts").GetInt32() >= 2);
        }

        // The same config run straight through in this process.
        var config = TrainerFixtures.Load(yaml.Replace("'ignored-by-the-server'", $"'{_dir["straight"]}'"), _dir.Path);
        new Trainer(config, new RecordingSink()).Run(CancellationToken.None);
        foreach (var file in new[] { "model.safetensors", TrainerCheckpoints.OptimizerFile })
        {
            using var expected = SafeTensorsFile.Open(Path.Combine(_dir["straight"], "checkpoints", "step-30", file));
            using var actual = SafeTensorsFile.Open(Path.Combine(_dir["data"], "jobs", id, "output", "checkpoints", "step-30", file));
            foreach (var name in expected.Tensors.Keys)
            {
                using var x = expected.Read(name);
                using var y = actual.Read(name);
                Assert.True(x.equal(y).all().item<bool>(), $"{file}: {name} differs after the crash");
            }
        }
    }

    [Fact]
    public async Task A_cancelled_job_saves_its_last_step_and_resumes_to_success()
    {
        await using var server = await ServerProcess.StartAsync(_dir["data"], Environment);
        using var client = Client(server);
        var id = await SubmitAsync(client, Yaml(maxSteps: 400, saveSteps: 1000));
        await WaitForAsync(client, id, j => j.GetProperty("progress").GetProperty("current_step").GetInt64() >= 3, TimeSpan.FromMinutes(3));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/v1/jobs/{id}/cancel", null)).StatusCode);
        var job = await WaitForAsync(client, id, j => Status(j) is "cancelled" or "failed" or "succeeded", TimeSpan.FromMinutes(2));
        Assert.Equal("cancelled", Status(job));
        var checkpoints = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}/checkpoints");
        var saved = checkpoints.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("step_number").GetInt64()).Max();
        Assert.True(saved >= 3);

        var resumed = await client.PostAsync($"/api/v1/jobs/{id}/resume", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        // It runs on from the checkpoint (not from step 0); then stop it again.
        await WaitForAsync(client, id, j => j.GetProperty("progress").GetProperty("current_step").GetInt64() > saved, TimeSpan.FromMinutes(2));
        var events = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}/events?limit=1000");
        Assert.Contains(events.GetProperty("data").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains($"resumed from"));
        await client.PostAsync($"/api/v1/jobs/{id}/cancel", null);
        await WaitForAsync(client, id, j => Status(j) is "cancelled" or "succeeded", TimeSpan.FromMinutes(2));
    }

    public void Dispose() => _dir.Dispose();
}
