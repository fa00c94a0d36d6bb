using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Sft.Data.Persistence;
using Sft.Web.Live;
using Sft.Web.Tests.Auth;
using static Sft.Web.Tests.Live.TrainingEvents;

namespace Sft.Web.Tests.Api;

[Collection(AppCollection.Name)]
public class JobsApiTests(TestApp app)
{
    [Fact]
    public async Task Jobs_page_newest_first_with_after_and_limit_and_filter_by_status()
    {
        // Far in the future so that jobs of other tests (created "now") sort after these.
        var origin = new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var ids = new List<string>();
        for (var i = 0; i < 25; i++)
            ids.Add((await app.AddJobAsync($"ftjob-page-{i:D2}", i % 5 == 0 ? JobStatus.Failed : JobStatus.Succeeded, origin.AddMinutes(i))).Id);
        ids.Reverse();                                                              // newest first

        using var client = app.Client();
        var seen = new List<string>();
        string? after = null;
        bool hasMore;
        var pages = 0;
        do
        {
            var page = await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?limit=10" + (after == null ? "" : $"&after={after}"));
            Assert.Equal("list", page.GetProperty("object").GetString());
            var data = page.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).ToList();
            seen.AddRange(data);
            after = data[^1];
            hasMore = page.GetProperty("has_more").GetBoolean();
            pages++;
        } while (hasMore && seen.Count < 25);
        Assert.Equal(ids, seen.Take(25));
        Assert.Equal(3, pages);

        var failed = await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=failed&limit=100");
        var failedIds = failed.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).Where(id => id.StartsWith("ftjob-page-")).ToList();
        Assert.Equal(["ftjob-page-20", "ftjob-page-15", "ftjob-page-10", "ftjob-page-05", "ftjob-page-00"], failedIds);

        var job = await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs/ftjob-page-03");
        Assert.Equal("fine_tuning.job", job.GetProperty("object").GetString());
        Assert.Equal(origin.AddMinutes(3).ToUnixTimeSeconds(), job.GetProperty("created_at").GetInt64());
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind);
        Assert.Equal(0, job.GetProperty("progress").GetProperty("current_step").GetInt64());
    }

    [Fact]
    public async Task Bad_queries_and_unknown_ids_are_problems_naming_the_parameter()
    {
        using var client = app.Client();
        Assert.Equal("limit", (await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs?limit=0"), HttpStatusCode.BadRequest)).GetProperty("param").GetString());
        Assert.Equal("limit", (await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs?limit=101"), HttpStatusCode.BadRequest)).GetProperty("param").GetString());
        var status = await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs?status=done"), HttpStatusCode.BadRequest);
        Assert.Equal("status", status.GetProperty("param").GetString());
        Assert.Contains("succeeded", status.GetProperty("detail").GetString());
        Assert.True(status.GetProperty("errors").TryGetProperty("status", out _));
        Assert.Equal("after", (await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs?after=ftjob-nope"), HttpStatusCode.BadRequest)).GetProperty("param").GetString());
        var notNumber = await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs?limit=ten"), HttpStatusCode.BadRequest);
        Assert.Contains("limit", notNumber.GetProperty("detail").GetString());
        var missing = await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs/ftjob-nope"), HttpStatusCode.NotFound);
        Assert.Equal(("id", "not_found"), (missing.GetProperty("param").GetString(), missing.GetProperty("code").GetString()));
        await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs/ftjob-nope/events"), HttpStatusCode.NotFound);
        await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs/ftjob-nope/metrics"), HttpStatusCode.NotFound);

        var malformed = await client.PostAsync("/api/v1/api-keys", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        Assert.Contains("JSON", (await AuthTests.ProblemOf(malformed, HttpStatusCode.BadRequest)).GetProperty("detail").GetString());
        var tooLarge = await client.PostAsync("/api/v1/api-keys",
            new StringContent($"{{\"name\": \"{new string('x', (int)TestApp.MaxRequestBytes + 10)}\"}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Fact]
    public async Task Events_and_metrics_page_with_cursors()
    {
        var job = await app.AddJobAsync();
        var writer = app.Get<JobEventWriter>();
        var sink = writer.SinkFor(job.Id);
        for (var step = 1; step <= 30; step++) sink.Publish(Step(step));
        await writer.FlushAsync();
        using var client = app.Client();

        var first = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job.Id}/events?limit=12");
        var firstIds = first.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.True(first.GetProperty("has_more").GetBoolean());
        var rest = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job.Id}/events?after={firstIds[^1]}&limit=100");
        var restEvents = rest.GetProperty("data").EnumerateArray().ToList();
        Assert.False(rest.GetProperty("has_more").GetBoolean());
        Assert.Equal(30, firstIds.Count + restEvents.Count);
        Assert.StartsWith("Step 13/100", restEvents[0].GetProperty("message").GetString());
        Assert.Equal("metrics", restEvents[0].GetProperty("type").GetString());
        Assert.Equal(13, restEvents[0].GetProperty("data").GetProperty("step").GetInt64());
        Assert.Equal("after", (await AuthTests.ProblemOf(await client.GetAsync($"/api/v1/jobs/{job.Id}/events?after=yesterday"), HttpStatusCode.BadRequest)).GetProperty("param").GetString());

        var losses = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job.Id}/metrics?since_step=25&names=loss,grad_norm");
        var points = losses.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(10, points.Count);
        Assert.All(points, p => Assert.True(p.GetProperty("step").GetInt64() > 25));
        Assert.Equal(3.0 / 26, points.First(p => p.GetProperty("name").GetString() == "loss").GetProperty("value").GetDouble());

        // limit=20 with 9 points a step: pages end on whole steps (18 points = steps 1 and 2).
        var paged = new List<JsonElement>();
        long since = 0;
        while (true)
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job.Id}/metrics?since_step={since}&limit=20");
            var data = page.GetProperty("data").EnumerateArray().ToList();
            Assert.True(data.Count <= 20 && data.Count % 9 == 0, $"page of {data.Count}");
            paged.AddRange(data);
            if (!page.GetProperty("has_more").GetBoolean()) break;
            since = data[^1].GetProperty("step").GetInt64();
        }
        Assert.Equal(30 * 9, paged.Count);
        Assert.Equal(Enumerable.Range(1, 30).Select(s => (long)s), paged.Where(p => p.GetProperty("name").GetString() == "loss").Select(p => p.GetProperty("step").GetInt64()));
    }
}
