using Sft.Training.Tests;
using Sft.Training.Tests.Engine;

namespace Sft.Web.Tests.Jobs;

/// <summary>Crash recovery: a server killed with SIGKILL mid-job hands the job back on its next start (Hangfire's
/// invisibility timeout), and the job continues from its newest complete checkpoint to the same weights as a run that
/// was never interrupted (bit-exact, CPU float32).</summary>
public class JobCrashTests
{
    [Fact]
    public async Task A_job_whose_server_was_killed_resumes_on_restart_to_the_same_weights()
    {
        using var dir = new TempDir();
        var yaml = TrainerFixtures.Yaml(TestAssets.Reference("qwen2_tied", "model"), TrainerFixtures.RandomDataset(dir.Path, rows: 40),
            dir["unused"], lr: 2e-3, maxSteps: 40, batch: 2, accumulation: 2, shuffle: true, saveSteps: 3, keep: 3);
        string straight, killed;
        long savedBeforeKill;

        await using (var server = await JobServer.StartAsync(dir["data"]))
        {
            straight = (await server.SubmitAsync(yaml, "straight")).GetProperty("id").GetString()!;
            await server.WaitForStatusAsync(straight, "succeeded");

            killed = (await server.SubmitAsync(yaml, "killed")).GetProperty("id").GetString()!;
            await server.WaitForAsync(killed, _ => true);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while ((await server.CheckpointStepsAsync(killed)) is var steps && (steps.Count == 0 || steps[0] < 6))
            {
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint of step 6 within 120 s");
                await Task.Delay(20);
            }
        }                                                    // disposing kills the process tree: SIGKILL, nothing runs after it

        var folder = Path.Combine(dir["data"], "jobs", killed, "output", "checkpoints");
        savedBeforeKill = Directory.GetDirectories(folder, "step-*").Select(d => long.Parse(Path.GetFileName(d)[5..])).Max();
        Assert.True(savedBeforeKill < 40, $"the job finished (step {savedBeforeKill}) before the kill; the test proves nothing");

        await using (var server = await JobServer.StartAsync(dir["data"]))
        {
            var job = await server.WaitForStatusAsync(killed, "succeeded", seconds: 180);
            Assert.Equal(40, job.GetProperty("progress").GetProperty("current_step").GetInt64());
            Assert.Equal(2, job.GetProperty("attempts").GetInt32());
            var messages = (await server.EventsAsync(killed)).Select(e => e.GetProperty("message").GetString()!).ToList();
            Assert.Contains(messages, m => m.StartsWith("resumed from ", StringComparison.Ordinal) && m.Contains("step-"));
            Assert.DoesNotContain(messages, m => m.Contains("at step 0 "));
        }

        CheckpointAssert.SameWeights(Path.Combine(dir["data"], "jobs", straight, "output", "checkpoints", "step-40"),
            Path.Combine(folder, "step-40"), "after the kill and the restart");
    }
}
