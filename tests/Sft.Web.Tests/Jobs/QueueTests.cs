using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Sft.Web.Jobs;

namespace Sft.Web.Tests.Jobs;

[Collection(AppCollection.Name)]
public class QueueTests(TestApp app)
{
    [Fact]
    public async Task A_job_enqueued_on_the_cpu_queue_is_processed_by_its_single_worker()
    {
        Assert.Contains("cpu", app.Get<DeviceQueues>().Names);
        var marker = Path.Combine(app.DataDir, $"probe-{Guid.NewGuid():N}.txt");
        var jobId = app.Get<IBackgroundJobClient>().Create(() => ProbeJobs.Touch(marker), new EnqueuedState("cpu"));

        var state = await WaitForFinalStateAsync(jobId);
        Assert.Equal(SucceededState.StateName, state);
        Assert.True(File.Exists(marker));

        var monitoring = app.Get<JobStorage>().GetMonitoringApi();
        var cpuServers = monitoring.Servers().Where(s => s.Queues.Contains("cpu")).ToList();
        Assert.NotEmpty(cpuServers);
        Assert.All(cpuServers, s => Assert.Equal(1, s.WorkersCount));
        Assert.All(cpuServers, s => Assert.Equal(["cpu"], s.Queues));
        Assert.True(File.Exists(Path.Combine(app.DataDir, "hangfire.db")));          // its own file, not the app database
    }

    [Fact]
    public async Task A_failed_job_is_not_retried()
    {
        var jobId = app.Get<IBackgroundJobClient>().Create(() => ProbeJobs.Fail("boom"), new EnqueuedState("cpu"));
        Assert.Equal(FailedState.StateName, await WaitForFinalStateAsync(jobId));
        await Task.Delay(1000);                                                      // a retry would move it to Scheduled
        using var connection = app.Get<JobStorage>().GetConnection();
        Assert.Equal(FailedState.StateName, connection.GetJobData(jobId).State);
        Assert.Null(connection.GetJobParameter(jobId, "RetryCount"));
    }

    async Task<string> WaitForFinalStateAsync(string jobId)
    {
        using var connection = app.Get<JobStorage>().GetConnection();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var state = connection.GetJobData(jobId)?.State;
            if (state == SucceededState.StateName || state == FailedState.StateName) return state!;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Hangfire job {jobId} did not finish in 20 s");
    }
}
