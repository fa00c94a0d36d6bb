using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Sft.Data.Persistence;
using Sft.Web.Api.Models;
using Sft.Web.Live;
using static Sft.Web.Tests.Live.TrainingEvents;

namespace Sft.Web.Tests.Live;

[Collection(AppCollection.Name)]
public class LiveStreamTests(TestApp app)
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_signalr_client_gets_the_points_it_missed_then_live_batches_and_status()
    {
        var job = await app.AddJobAsync();
        var writer = app.Get<JobEventWriter>();
        var sink = writer.SinkFor(job.Id);
        for (var step = 1; step <= 5; step++) sink.Publish(Step(step));
        await writer.FlushAsync();

        await using var hub = app.Hub();
        var metrics = Channel.CreateUnbounded<MetricsMessage>();
        var statuses = Channel.CreateUnbounded<StatusMessage>();
        hub.On<MetricsMessage>("metrics", m => metrics.Writer.TryWrite(m));
        hub.On<StatusMessage>("status", s => statuses.Writer.TryWrite(s));
        await hub.StartAsync();
        await hub.InvokeAsync("Join", job.Id, 2L);

        var replay = await metrics.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.True(replay.Replay);
        Assert.Equal([3L, 4L, 5L], replay.Points.Where(p => p.Name == "loss").Select(p => p.Step));
        Assert.Equal(5, replay.Progress!.CurrentStep);
        Assert.Equal("running", (await statuses.Reader.ReadAsync().AsTask().WaitAsync(Patience)).Status);

        for (var step = 6; step <= 8; step++) sink.Publish(Step(step));
        var live = new List<long>();
        while (live.Count < 3)
        {
            var message = await metrics.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.False(message.Replay);
            live.AddRange(message.Points.Where(p => p.Name == "loss").Select(p => p.Step));
        }
        Assert.Equal([6L, 7L, 8L], live);

        await writer.FlushAsync();
        await app.Get<JobStatusService>().SetStatusAsync(job.Id, JobStatus.Succeeded);
        Assert.Equal("succeeded", (await statuses.Reader.ReadAsync().AsTask().WaitAsync(Patience)).Status);

        var missing = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Join", "ftjob-missing", 0L));
        Assert.Contains("'ftjob-missing' was not found", missing.Message);
    }

    [Fact]
    public async Task Live_messages_are_throttled_to_ten_a_second_per_job_without_losing_points()
    {
        var job = await app.AddJobAsync();
        await using var hub = app.Hub();
        var received = Channel.CreateUnbounded<(TimeSpan At, MetricsMessage Message)>();
        var clock = Stopwatch.StartNew();
        hub.On<MetricsMessage>("metrics", m => received.Writer.TryWrite((clock.Elapsed, m)));
        await hub.StartAsync();
        await hub.InvokeAsync("Join", job.Id, 0L);
        await received.Reader.ReadAsync().AsTask().WaitAsync(Patience);          // the (empty) replay

        // 100 single-point batches over a second or more, straight into the notifier the writer publishes on.
        var notifier = app.Get<JobNotifier>();
        var publishing = Stopwatch.StartNew();
        for (var step = 1; step <= 100; step++)
        {
            notifier.Publish(new MetricsMessage(job.Id, [new MetricPointDto(step, "loss", 1.0 / step, 0)], [], [], null, null, false));
            await Task.Delay(10);
        }
        var published = publishing.Elapsed;
        var messages = new List<MetricsMessage>();
        while (messages.Sum(m => m.Points.Count) < 100)
            messages.Add((await received.Reader.ReadAsync().AsTask().WaitAsync(Patience)).Message);

        Assert.Equal(Enumerable.Range(1, 100).Select(s => (long)s), messages.SelectMany(m => m.Points).Select(p => p.Step));
        // At most one message per 100 ms from the first publish until one interval after the last.
        var allowed = (int)Math.Ceiling((published.TotalSeconds + 0.1) * 10) + 1;
        Assert.InRange(messages.Count, 3, allowed);
    }

    [Fact]
    public async Task Server_sent_events_replay_then_follow_the_job_until_it_finishes()
    {
        var job = await app.AddJobAsync();
        var writer = app.Get<JobEventWriter>();
        var sink = writer.SinkFor(job.Id);
        for (var step = 1; step <= 3; step++) sink.Publish(Step(step));
        await writer.FlushAsync();

        using var client = app.Client();
        using var response = await client.GetAsync($"/api/v1/jobs/{job.Id}/stream?after_step=1", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var (type, data) = await NextEventAsync(reader);
        Assert.Equal("metrics", type);
        Assert.True(data.GetProperty("replay").GetBoolean());
        Assert.Equal([2L, 3L], data.GetProperty("points").EnumerateArray().Where(p => p.GetProperty("name").GetString() == "loss").Select(p => p.GetProperty("step").GetInt64()));
        (type, data) = await NextEventAsync(reader);
        Assert.Equal(("status", "running"), (type, data.GetProperty("status").GetString()));

        sink.Publish(Step(4));
        (type, data) = await NextEventAsync(reader);
        Assert.Equal("metrics", type);
        Assert.False(data.GetProperty("replay").GetBoolean());
        Assert.Contains(data.GetProperty("points").EnumerateArray(), p => p.GetProperty("step").GetInt64() == 4);

        await writer.FlushAsync();
        await app.Get<JobStatusService>().SetStatusAsync(job.Id, JobStatus.Cancelled);
        (type, data) = await NextEventAsync(reader);
        Assert.Equal(("status", "cancelled"), (type, data.GetProperty("status").GetString()));
        Assert.Null(await reader.ReadLineAsync().WaitAsync(Patience));          // the stream ends with the job

        var missing = await client.GetAsync("/api/v1/jobs/ftjob-missing/stream");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    static async Task<(string Type, JsonElement Data)> NextEventAsync(StreamReader reader)
    {
        string? type = null, data = null;
        while (true)
        {
            var line = await reader.ReadLineAsync().WaitAsync(Patience) ?? throw new EndOfStreamException("the event stream ended");
            if (line.StartsWith("event: ")) type = line["event: ".Length..];
            else if (line.StartsWith("data: ")) data = line["data: ".Length..];
            else if (line.Length == 0 && data != null) return (type ?? "message", JsonDocument.Parse(data).RootElement.Clone());
        }
    }
}
