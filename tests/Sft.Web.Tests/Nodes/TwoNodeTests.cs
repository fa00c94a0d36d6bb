using System.Text.Json;
using Sft.Training.Tests;
using Sft.Training.Tests.Engine;
using Sft.Web.Tests.Jobs;

namespace Sft.Web.Tests.Nodes;

/// <summary>
/// Two real server processes (nodes) sharing one PostgreSQL database and queue and one data folder: two jobs run at
/// once, one on each node; a node killed with SIGKILL mid-job hands its job to the other node, which resumes it from
/// the newest checkpoint to the same weights as an uninterrupted run.
/// </summary>
[Collection(PostgresCollection.Name)]
public class TwoNodeTests(PostgresServer postgres)
{
    [Fact]
    public async Task Two_nodes_share_the_queue_and_a_killed_nodes_job_resumes_on_the_other()
    {
        using var dir = new TempDir();
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference("qwen2_tied", "model"), TrainerFixtures.RandomDataset(dir.Path, rows: 40),
            dir["unused"], lr: 2e-3, maxSteps: 40, batch: 2, accumulation: 2, shuffle: true, saveSteps: 3, keep: 3);
        var database = await postgres.CreateDatabaseAsync();
        Dictionary<string, string> Node(string name) => new()
        {
            ["Sft__Database__Provider"] = "postgres",
            ["ConnectionStrings__Sft"] = database,
            ["Sft__Queue__Storage"] = "postgres",
            ["Sft__Queue__ConnectionString"] = database,
            ["Sft__Node__Name"] = name,
            ["Sft__Node__HeartbeatInterval"] = "00:00:01",
            ["Sft__Node__OfflineAfter"] = "00:00:04",
        };
        var servers = new Dictionary<string, JobServer>
        {
            ["node-a"] = await JobServer.StartAsync(dir["data"], "00:00:08", Node("node-a")),
            ["node-b"] = await JobServer.StartAsync(dir["data"], "00:00:08", Node("node-b")),
        };
        try
        {
            // Both nodes list each other, online, with their one device.
            var nodes = (await servers["node-b"].GetAsync("/api/v1/nodes")).GetProperty("data").EnumerateArray().ToList();
            Assert.Equal(["node-a", "node-b"], nodes.Select(n => n.GetProperty("name").GetString()));
            Assert.All(nodes, n => Assert.True(n.GetProperty("online").GetBoolean()));
            Assert.All(nodes, n => Assert.Equal("cpu", n.GetProperty("devices")[0].GetProperty("name").GetString()));

            // Two jobs at once: each node's single cpu worker takes one.
            var first = (await servers["node-a"].SubmitAsync(yaml, "first")).GetProperty("id").GetString()!;
            var second = (await servers["node-b"].SubmitAsync(yaml, "second")).GetProperty("id").GetString()!;
            var busy = await WaitForDevicesAsync(servers["node-a"], jobs => jobs.Count == 2);
            Assert.Equal(new[] { first, second }.Order(), busy.Values.Order());
            var firstJob = await servers["node-a"].WaitForStatusAsync(first, "succeeded", seconds: 180);
            var secondJob = await servers["node-b"].WaitForStatusAsync(second, "succeeded", seconds: 180);
            Assert.NotEqual(firstJob.GetProperty("node").GetString(), secondJob.GetProperty("node").GetString());
            CheckpointAssert.SameWeights(StepDir(dir, first, 40), StepDir(dir, second, 40), "between the two nodes' runs of one config");

            // A third job; its node dies with SIGKILL after a checkpoint, the other node takes it over.
            var killed = (await servers["node-a"].SubmitAsync(yaml, "killed")).GetProperty("id").GetString()!;
            var holder = (await servers["node-a"].WaitForAsync(killed, j => j.GetProperty("node").GetString() != null))
                .GetProperty("node").GetString()!;
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while ((await servers[holder].CheckpointStepsAsync(killed)) is var steps && (steps.Count == 0 || steps[0] < 6))
            {
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint of step 6 within 120 s");
                await Task.Delay(20);
            }
            await servers[holder].DisposeAsync();
            servers.Remove(holder);
            var survivor = servers.Single();
            var saved = Directory.GetDirectories(Path.Combine(dir["data"], "jobs", killed, "output", "checkpoints"), "step-*")
                .Select(d => long.Parse(Path.GetFileName(d)[5..])).Max();
            Assert.True(saved < 40, $"the job finished (step {saved}) before the kill; the test proves nothing");

            var job = await survivor.Value.WaitForStatusAsync(killed, "succeeded", seconds: 180);
            Assert.Equal(survivor.Key, job.GetProperty("node").GetString());
            Assert.Equal(40, job.GetProperty("progress").GetProperty("current_step").GetInt64());
            Assert.Equal(2, job.GetProperty("attempts").GetInt32());
            var messages = (await survivor.Value.EventsAsync(killed)).Select(e => e.GetProperty("message").GetString()!).ToList();
            Assert.Equal([$"Running on node {holder}", $"Running on node {survivor.Key}"], messages.Where(m => m.StartsWith("Running on node ", StringComparison.Ordinal)));
            Assert.Contains(messages, m => m.StartsWith("resumed from ", StringComparison.Ordinal) && m.Contains("step-"));
            Assert.DoesNotContain(messages, m => m.Contains("at step 0 "));
            CheckpointAssert.SameWeights(StepDir(dir, first, 40), StepDir(dir, killed, 40), "after the node was killed and the job moved");

            var listed = (await survivor.Value.GetAsync("/api/v1/nodes")).GetProperty("data").EnumerateArray()
                .ToDictionary(n => n.GetProperty("name").GetString()!, n => n.GetProperty("online").GetBoolean());
            Assert.Equal(new Dictionary<string, bool> { [survivor.Key] = true, [holder] = false }, listed);
        }
        finally
        {
            foreach (var server in servers.Values) await server.DisposeAsync();
        }
    }

    static string StepDir(TempDir dir, string job, int step) => Path.Combine(dir["data"], "jobs", job, "output", "checkpoints", $"step-{step}");

    /// <summary>Polls the nodes list until the busy devices satisfy <paramref name="done"/>; returns node → job id.</summary>
    static async Task<Dictionary<string, string>> WaitForDevicesAsync(JobServer server, Func<Dictionary<string, string>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var busy = new Dictionary<string, string>();
            foreach (var node in (await server.GetAsync("/api/v1/nodes")).GetProperty("data").EnumerateArray())
                foreach (var device in node.GetProperty("devices").EnumerateArray())
                    if (device.GetProperty("job_id").GetString() is { } job) busy[node.GetProperty("name").GetString()!] = job;
            if (done(busy)) return busy;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"devices never got busy as expected: {JsonSerializer.Serialize(busy)}");
            await Task.Delay(50);
        }
    }
}
