using System.IO.Compression;
using Sft.Training.Checkpoints;
using Sft.Training.Tests;
using Sft.Training.Tests.Engine;

namespace Sft.Web.Tests.Jobs;

/// <summary>Jobs on a real server process (real SQLite, real Hangfire, the real trainer on the tiny reference model):
/// submit over REST, follow, succeed, download the checkpoint and load it; cancel a running job and resume it.</summary>
public class JobLifecycleTests
{
    static string Yaml(TempDir dir, int maxSteps, int saveSteps) =>
        TrainerFixtures.Yaml(TestAssets.Reference("qwen2_tied", "model"), TrainerFixtures.RandomDataset(dir.Path, rows: 40),
            dir["user-output"], lr: 2e-3, maxSteps: maxSteps, batch: 2, shuffle: true, saveSteps: saveSteps);

    [Fact]
    public async Task A_submitted_job_trains_succeeds_and_its_checkpoint_downloads_and_loads()
    {
        using var dir = new TempDir();
        await using var server = await JobServer.StartAsync(dir["data"]);

        var submitted = await server.SubmitAsync(Yaml(dir, maxSteps: 6, saveSteps: 3), name: "tiny");
        var id = submitted.GetProperty("id").GetString()!;
        Assert.Matches("^ftjob-[0-9a-f]{24}$", id);
        Assert.Equal("tiny", submitted.GetProperty("name").GetString());
        Assert.Equal("full", submitted.GetProperty("method").GetString());
        Assert.Equal("cpu", submitted.GetProperty("device").GetString());
        Assert.Equal(Path.Combine(dir["data"], "jobs", id, "output"), submitted.GetProperty("output_dir").GetString());

        var job = await server.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(6, job.GetProperty("progress").GetProperty("current_step").GetInt64());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
        Assert.False(Directory.Exists(dir["user-output"]), "the user's output_dir must be overridden");

        var events = await server.EventsAsync(id);
        Assert.Contains(events, e => e.GetProperty("type").GetString() == "status" && e.GetProperty("message").GetString()!.Contains("running"));
        Assert.Equal(6, events.Count(e => e.GetProperty("type").GetString() == "metrics"));
        var metrics = (await server.GetAsync($"/api/v1/jobs/{id}/metrics?names=loss")).GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6], metrics.Select(p => p.GetProperty("step").GetInt64()));
        Assert.All(metrics, p => Assert.InRange(p.GetProperty("value").GetDouble(), 0.1, 20));

        Assert.Equal([6, 3], await server.CheckpointStepsAsync(id));
        var zip = dir["step-6.zip"];
        await using (var download = await server.Http.GetStreamAsync($"/api/v1/jobs/{id}/checkpoints/6/download"))
        await using (var file = File.Create(zip))
            await download.CopyToAsync(file);
        ZipFile.ExtractToDirectory(zip, dir["unzipped"]);
        using var model = HfModelFolder.Load(dir["unzipped"]);
        var saved = Path.Combine(dir["data"], "jobs", id, "output", "checkpoints", "step-6", "model.safetensors");
        Assert.Equal(await File.ReadAllBytesAsync(saved), await File.ReadAllBytesAsync(Path.Combine(dir["unzipped"], "model.safetensors")));
        Assert.True(model.Config.NumHiddenLayers > 0);
    }

    [Fact]
    public async Task A_running_job_cancelled_over_the_API_saves_its_last_step_and_resumes_to_success()
    {
        using var dir = new TempDir();
        await using var server = await JobServer.StartAsync(dir["data"]);
        const int steps = 150;
        var id = (await server.SubmitAsync(Yaml(dir, maxSteps: steps, saveSteps: 1000))).GetProperty("id").GetString()!;

        await server.WaitForAsync(id, j => j.GetProperty("progress").GetProperty("current_step").GetInt64() >= 2);
        var cancelling = await server.PostAsync($"/api/v1/jobs/{id}/cancel");
        Assert.Equal(id, cancelling.GetProperty("id").GetString());
        var cancelled = await server.WaitForStatusAsync(id, "cancelled");
        var stoppedAt = cancelled.GetProperty("progress").GetProperty("current_step").GetInt64();
        Assert.InRange(stoppedAt, 2, steps - 1);
        Assert.Equal([stoppedAt], await server.CheckpointStepsAsync(id));
        Assert.True(File.Exists(Path.Combine(dir["data"], "jobs", id, "output", "checkpoints", $"step-{stoppedAt}", "model.safetensors")));

        var resumed = await server.PostAsync($"/api/v1/jobs/{id}/resume");
        Assert.Equal("queued", resumed.GetProperty("status").GetString());
        var done = await server.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(steps, done.GetProperty("progress").GetProperty("current_step").GetInt64());
        Assert.Equal(2, done.GetProperty("attempts").GetInt32());
        var events = await server.EventsAsync(id);
        Assert.Contains(events, e => e.GetProperty("message").GetString()!.Contains($"step-{stoppedAt} at step {stoppedAt}"));
        Assert.Equal(steps, (await server.CheckpointStepsAsync(id))[0]);
    }
}
