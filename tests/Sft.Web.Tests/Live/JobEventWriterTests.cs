using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Engine;
using Sft.Web.Api.Models;
using Sft.Web.Live;
using static Sft.Web.Tests.Live.TrainingEvents;

namespace Sft.Web.Tests.Live;

[Collection(AppCollection.Name)]
public class JobEventWriterTests(TestApp app)
{
    JobEventWriter Writer => app.Get<JobEventWriter>();

    [Fact]
    public async Task Events_of_a_run_become_points_events_checkpoint_rows_and_job_progress()
    {
        var job = await app.AddJobAsync();
        var sink = Writer.SinkFor(job.Id);
        sink.Publish(new PhaseEvent(TrainingPhase.Training, "lora r=8"));
        for (var step = 1; step <= 20; step++) sink.Publish(Step(step, totalSteps: 40));
        sink.Publish(new EvalEvent(20, 1.25, 900, [new SampleGeneration("Hi", "Hello!")]));
        var folder = Path.Combine(app.DataDir, "jobs", job.Id, "checkpoints", "step-20");
        sink.Publish(new CheckpointEvent(20, folder, CheckpointKind.Adapter, 123_456));
        sink.Publish(new LogEvent(TrainingLogLevel.Warning, "dataset has 3 empty rows"));
        await Writer.FlushAsync();

        await using var db = app.Db();
        var row = await db.Jobs.SingleAsync(j => j.Id == job.Id);
        Assert.Equal(20, row.CurrentStep);
        Assert.Equal(40, row.TotalSteps);
        Assert.Equal(3.0 / 20, row.LastLoss);
        Assert.Equal(1.25, row.LastEvalLoss);
        Assert.Equal(4020, row.TokensPerSecond);
        Assert.Equal(20 * 0.25, row.EtaSeconds);
        Assert.Equal(Enumerable.Range(1, 20).Sum(s => 1000L + s), row.TrainedTokens);

        var points = await db.MetricPoints.Where(p => p.JobId == job.Id).ToListAsync();
        Assert.Equal(20 * 9 + 2, points.Count);            // 9 metrics a step (no GPU figures on CPU) + eval loss and perplexity
        Assert.Equal(Enumerable.Range(1, 20).Select(s => 3.0 / s), points.Where(p => p.Name == MetricNames.Loss).OrderBy(p => p.Step).Select(p => p.Value));
        Assert.Equal(Math.Exp(1.25), points.Single(p => p.Name == MetricNames.EvalPerplexity).Value, 12);
        Assert.Equal(200_000_007, points.Single(p => p.Name == MetricNames.MemoryRss && p.Step == 7).Value);

        var checkpoint = await db.Checkpoints.SingleAsync(c => c.JobId == job.Id);
        Assert.Equal($"jobs/{job.Id}/checkpoints/step-20", checkpoint.Path);    // stored relative to the data folder
        Assert.Equal(CheckpointKindEntity.Adapter, checkpoint.Kind);
        Assert.Equal(123_456, checkpoint.SizeBytes);
        Assert.Contains("\"eval_loss\":1.25", checkpoint.MetricsJson);

        var events = await db.JobEvents.Where(e => e.JobId == job.Id).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(1 + 20 + 1 + 1 + 1, events.Count);
        Assert.Equal("Phase: training (lora r=8)", events[0].Message);
        Assert.StartsWith("Step 1/40: loss=3.0000", events[1].Message);
        Assert.Contains("\"tokens_per_second\":4001", events[1].DataJson);
        Assert.Equal("checkpoint", events[^2].Type);
        Assert.Equal(("warning", "message", "dataset has 3 empty rows"), (events[^1].Level, events[^1].Type, events[^1].Message));
    }

    [Fact]
    public async Task Events_are_written_in_batches_not_one_by_one()
    {
        var job = await app.AddJobAsync();
        using var subscription = app.Get<JobNotifier>().Subscribe(job.Id);
        var sink = Writer.SinkFor(job.Id);
        for (var step = 1; step <= 300; step++) sink.Publish(Step(step, totalSteps: 300));
        await Writer.FlushAsync();

        var batches = new List<MetricsMessage>();
        while (subscription.Reader.TryRead(out var message)) batches.Add((MetricsMessage)message);
        Assert.Equal(300 * 9, batches.Sum(b => b.Points.Count));
        Assert.InRange(batches.Count, 1, 10);            // 300 events queued at once: a few batches (≤500 each), not 300 writes
        Assert.Equal(Enumerable.Range(1, 300).Select(s => (long)s), batches.SelectMany(b => b.Points).Where(p => p.Name == "loss").Select(p => p.Step));
        Assert.Equal(300, batches[^1].Progress!.CurrentStep);
        Assert.All(batches.SelectMany(b => b.Events), e => Assert.StartsWith("ftevent-", e.Id));
    }

    [Fact]
    public async Task A_resumed_run_replaces_the_points_of_the_steps_it_repeats()
    {
        var job = await app.AddJobAsync();
        var sink = Writer.SinkFor(job.Id);
        for (var step = 1; step <= 10; step++) sink.Publish(Step(step, loss: 5.0));
        await Writer.FlushAsync();
        using var subscription = app.Get<JobNotifier>().Subscribe(job.Id);
        for (var step = 7; step <= 8; step++) sink.Publish(Step(step, loss: 1.0));     // resumed from the step-6 checkpoint
        await Writer.FlushAsync();

        await using var db = app.Db();
        var losses = await db.MetricPoints.Where(p => p.JobId == job.Id && p.Name == MetricNames.Loss).OrderBy(p => p.Step).ToListAsync();
        Assert.Equal(Enumerable.Range(1, 8).Select(s => (long)s), losses.Select(p => p.Step));
        Assert.Equal([5, 5, 5, 5, 5, 5, 1, 1], losses.Select(p => p.Value));
        var row = await db.Jobs.SingleAsync(j => j.Id == job.Id);
        Assert.Equal(8, row.CurrentStep);
        Assert.Equal(Enumerable.Range(1, 8).Sum(s => 1000L + s), row.TrainedTokens);
        Assert.Contains(await db.JobEvents.Where(e => e.JobId == job.Id).Select(e => e.Message).ToListAsync(),
            m => m.StartsWith("Step 7 follows an earlier attempt that reached step 10"));
        Assert.True(subscription.Reader.TryRead(out var message));
        Assert.Equal(7, ((MetricsMessage)message).ReplacedFromStep);
    }

    [Fact]
    public async Task A_diverged_loss_is_kept_in_the_event_but_not_stored_as_a_point()
    {
        var job = await app.AddJobAsync();
        Writer.SinkFor(job.Id).Publish(Step(1, loss: double.NaN));
        await Writer.FlushAsync();

        await using var db = app.Db();
        Assert.False(await db.MetricPoints.AnyAsync(p => p.JobId == job.Id && p.Name == MetricNames.Loss));
        Assert.True(await db.MetricPoints.AnyAsync(p => p.JobId == job.Id && p.Name == MetricNames.LearningRate));
        var step = await db.JobEvents.SingleAsync(e => e.JobId == job.Id);
        Assert.Equal("warning", step.Level);
        Assert.Contains("\"loss\":\"NaN\"", step.DataJson);
        Assert.Null((await db.Jobs.SingleAsync(j => j.Id == job.Id)).LastLoss);
    }

    [Fact]
    public async Task Status_changes_stamp_the_row_log_an_event_and_notify()
    {
        var job = await app.AddJobAsync(status: JobStatus.Queued);
        using var subscription = app.Get<JobNotifier>().Subscribe(job.Id);
        var status = app.Get<JobStatusService>();
        await status.SetStatusAsync(job.Id, JobStatus.Running);
        await status.SetStatusAsync(job.Id, JobStatus.Failed, new JobErrorDto("invalid_config", "lr must be positive", "optimizer.learning_rate"));
        Assert.Null(await status.SetStatusAsync("ftjob-none", JobStatus.Running));

        await using var db = app.Db();
        var row = await db.Jobs.SingleAsync(j => j.Id == job.Id);
        Assert.Equal(JobStatus.Failed, row.Status);
        Assert.Equal(1, row.Attempts);
        Assert.NotNull(row.StartedAt);
        Assert.NotNull(row.FinishedAt);
        Assert.Equal(("invalid_config", "optimizer.learning_rate"), (row.ErrorCode, row.ErrorParam));
        var messages = await db.JobEvents.Where(e => e.JobId == job.Id).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
        Assert.Equal(["Status: running", "Status: failed: lr must be positive"], messages);
        Assert.True(subscription.Reader.TryRead(out var first));
        Assert.True(subscription.Reader.TryRead(out var second));
        Assert.Equal(("running", "failed"), (((StatusMessage)first).Status, ((StatusMessage)second).Status));
        Assert.Equal("optimizer.learning_rate", ((StatusMessage)second).Error!.Param);
    }
}
