using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Sft.Training.Config;

namespace Sft.Web.Tests.Jobs;

/// <summary>Bad submissions and bad job ids: each answered with a 4xx naming the field (and line and column for config
/// errors), and none of them stores a job, queues anything, or leaves an upload behind.</summary>
[Collection(AppCollection.Name)]
public class JobBadInputTests(TestApp app)
{
    static string Demo => ExampleConfigs.Read(ExampleConfigs.DemoTiny);

    /// <summary>Sends the request and checks the answer: the status, a problem naming <paramref name="param"/>, a detail
    /// containing each of <paramref name="detailHas"/>; then that no job row, Hangfire job or upload appeared.</summary>
    async Task<JsonElement> Refused(Func<HttpClient, Task<HttpResponseMessage>> send, HttpStatusCode status, string? param, params string[] detailHas)
    {
        long jobsBefore;
        await using (var db = app.Db()) jobsBefore = await db.Jobs.CountAsync();
        var queuedBefore = QueueTotal();
        using var client = app.Client();
        using var response = await send(client);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        if (param != null) Assert.Equal(param, problem.GetProperty("param").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        foreach (var text in detailHas) Assert.Contains(text, detail);

        await using (var db = app.Db()) Assert.Equal(jobsBefore, await db.Jobs.CountAsync());
        Assert.Equal(queuedBefore, QueueTotal());
        var uploads = Path.Combine(app.DataDir, "uploads", "jobs");
        Assert.True(!Directory.Exists(uploads) || Directory.GetFileSystemEntries(uploads).Length == 0, "a refused upload was kept");
        return problem;
    }

    long QueueTotal()
    {
        var stats = app.Get<JobStorage>().GetMonitoringApi().GetStatistics();
        return stats.Enqueued + stats.Processing + stats.Succeeded + stats.Failed + stats.Deleted + stats.Scheduled;
    }

    static Func<HttpClient, Task<HttpResponseMessage>> PostYaml(string yaml) =>
        c => c.PostAsync("/api/v1/jobs", new StringContent(yaml, Encoding.UTF8, "application/yaml"));

    [Fact]
    public async Task Malformed_YAML_is_refused_with_its_line_and_column()
    {
        var problem = await Refused(PostYaml("seed: 1\noptimizer: [1, 2\n"), HttpStatusCode.BadRequest, null, "config.yaml:");
        Assert.Equal("invalid_config", problem.GetProperty("code").GetString());
        var error = problem.GetProperty("validation").GetProperty("errors")[0];
        Assert.True(error.GetProperty("line").GetInt32() >= 2, error.ToString());
        Assert.True(error.GetProperty("column").GetInt32() >= 1, error.ToString());
    }

    [Fact]
    public async Task An_unknown_key_is_refused_naming_the_key_path_and_line()
    {
        var yaml = Demo.Replace("  learning_rate:", "  learnig_rate:");
        var line = yaml.Split('\n').ToList().FindIndex(l => l.Contains("learnig_rate")) + 1;
        var problem = await Refused(PostYaml(yaml), HttpStatusCode.BadRequest, null, "config.yaml:");
        var errors = problem.GetProperty("validation").GetProperty("errors").EnumerateArray().ToList();
        var unknown = Assert.Single(errors, e => e.GetProperty("path").GetString() == "lr_schedule.learnig_rate");
        Assert.Equal(line, unknown.GetProperty("line").GetInt32());
        Assert.Equal(3, unknown.GetProperty("column").GetInt32());
        Assert.Contains("learning_rate", unknown.GetProperty("message").GetString() + unknown.GetProperty("hint").GetString());
        Assert.Contains("learnig_rate", problem.GetProperty("errors").GetProperty("lr_schedule.learnig_rate")[0].GetString());
    }

    [Fact]
    public async Task A_missing_model_folder_and_dataset_file_are_each_named()
    {
        var yaml = Demo.Replace("'builtin:demo-tiny'", "'/nonexistent/model-folder'").Replace("'builtin:alpaca_en_demo'", "'/nonexistent/data.json'");
        var problem = await Refused(PostYaml(yaml), HttpStatusCode.BadRequest, "load_checkpoint", "/nonexistent/model-folder");
        var errors = problem.GetProperty("validation").GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("path").GetString()!.StartsWith("train_dataset") && e.GetProperty("message").GetString()!.Contains("/nonexistent/data.json"));
    }

    [Fact]
    public async Task JSON_without_a_config_and_unsupported_media_types_are_refused()
    {
        await Refused(c => c.PostAsJsonAsync("/api/v1/jobs", new { name = "x" }), HttpStatusCode.BadRequest, "config_yaml", "config_yaml is required");
        await Refused(c => c.PostAsync("/api/v1/jobs", new StringContent("{\"config_yaml\": ", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "body", "malformed");
        await Refused(c => c.PostAsync("/api/v1/jobs", new ByteArrayContent([1, 2, 3]) { Headers = { { "Content-Type", "application/octet-stream" } } }),
            HttpStatusCode.UnsupportedMediaType, "Content-Type", "application/yaml");
    }

    [Fact]
    public async Task A_config_over_the_request_limit_is_refused_as_too_large()
    {
        var yaml = Demo + "\n# " + new string('x', (int)TestApp.MaxRequestBytes) + "\n";
        // Expect: 100-continue, so the refusal comes before the body is sent (no race with a connection reset).
        await Refused(c => c.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs")
        {
            Content = new StringContent(yaml, Encoding.UTF8, "application/yaml"),
            Headers = { ExpectContinue = true },
        }), HttpStatusCode.RequestEntityTooLarge, null);

        var big = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(yaml)), "config", "job.yaml" } };
        await Refused(c => c.PostAsync("/api/v1/jobs", big), HttpStatusCode.RequestEntityTooLarge, "config", "job.yaml", "limit");
    }

    [Fact]
    public async Task Multipart_uploads_with_traversal_names_or_wrong_files_leave_nothing()
    {
        MultipartFormDataContent Upload(string configName, string? datasetName = "data.jsonl", string configField = "config")
        {
            var form = new MultipartFormDataContent { { new StringContent(Demo), configField, configName } };
            if (datasetName != null) form.Add(new StringContent("{\"instruction\": \"a\", \"output\": \"b\"}\n"), "dataset", datasetName);
            return form;
        }
        await Refused(c => c.PostAsync("/api/v1/jobs", Upload("job.yaml", "../../escape.jsonl")), HttpStatusCode.BadRequest, "dataset", "not a plain file name");
        await Refused(c => c.PostAsync("/api/v1/jobs", Upload("../job.yaml")), HttpStatusCode.BadRequest, "config", "not a plain file name");
        await Refused(c => c.PostAsync("/api/v1/jobs", Upload("job.yaml", "data.exe")), HttpStatusCode.BadRequest, "dataset", ".exe");
        await Refused(c => c.PostAsync("/api/v1/jobs", Upload("job.yaml", configField: "yaml")), HttpStatusCode.BadRequest, "config", "field 'config'");
        await Refused(c => c.PostAsync("/api/v1/jobs", Upload("job.jsonl", null)), HttpStatusCode.BadRequest, "config", ".yaml");
        // A valid upload whose config is refused: the stored files go too.
        var bad = new MultipartFormDataContent
        {
            { new StringContent(Demo.Replace("max_steps: 60", "max_steps: many")), "config", "job.yaml" },
            { new StringContent("{\"instruction\": \"a\", \"output\": \"b\"}\n"), "dataset", "data.jsonl" },
        };
        await Refused(c => c.PostAsync("/api/v1/jobs", bad), HttpStatusCode.BadRequest, "runner_config.max_steps", "max_steps");
    }

    [Theory]
    [InlineData("cancel")]
    [InlineData("resume")]
    [InlineData("clone")]
    public async Task Bad_and_unknown_job_ids_are_refused(string action)
    {
        await Refused(c => c.PostAsync($"/api/v1/jobs/ftjob-NOT-AN-ID/{action}", null), HttpStatusCode.BadRequest, "id", "ftjob-NOT-AN-ID", "24 hex digits");
        await Refused(c => c.PostAsync($"/api/v1/jobs/..%2F..%2Fsft.db/{action}", null), HttpStatusCode.BadRequest, "id", "is not a job id");
        await Refused(c => c.PostAsync($"/api/v1/jobs/ftjob-{new string('0', 24)}/{action}", null), HttpStatusCode.NotFound, "id", "No job");
    }

    [Fact]
    public async Task Finished_jobs_cannot_be_cancelled_and_running_ones_cannot_be_resumed()
    {
        var finished = await app.AddJobAsync("ftjob-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..24], Sft.Data.Persistence.JobStatus.Succeeded);
        await Refused(c => c.PostAsync($"/api/v1/jobs/{finished.Id}/cancel", null), HttpStatusCode.Conflict, "id", "already succeeded");
        var active = await app.AddJobAsync("ftjob-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..24], Sft.Data.Persistence.JobStatus.Running);
        await Refused(c => c.PostAsync($"/api/v1/jobs/{active.Id}/resume", null), HttpStatusCode.Conflict, "id", "only cancelled or failed");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sft_not-a-real-key-0000000000000000")]
    public async Task Without_a_valid_API_key_nothing_is_submitted(string? key)
    {
        long before;
        await using (var db = app.Db()) before = await db.Jobs.CountAsync();
        using var client = app.Client(key);
        using var response = await client.PostAsync("/api/v1/jobs", new StringContent(Demo, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var validate = await client.PostAsync("/api/v1/configs/validate", new StringContent(Demo, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.Unauthorized, validate.StatusCode);
        await using (var db = app.Db()) Assert.Equal(before, await db.Jobs.CountAsync());
    }

    [Fact]
    public async Task Validate_reports_errors_and_the_memory_estimate_without_creating_a_job()
    {
        long before;
        await using (var db = app.Db()) before = await db.Jobs.CountAsync();
        using var client = app.Client();
        var good = await (await client.PostAsync("/api/v1/configs/validate", new StringContent(Demo, Encoding.UTF8, "application/yaml")))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(good.GetProperty("valid").GetBoolean(), good.ToString());
        Assert.True(good.GetProperty("memory").GetProperty("total_parameters").GetInt64() > 0);
        var bad = await (await client.PostAsJsonAsync("/api/v1/configs/validate", new { config_yaml = Demo, overrides = new[] { "optimizer.eps=-1" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(bad.GetProperty("valid").GetBoolean());
        Assert.Contains(bad.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == "optimizer.eps");
        await using (var db = app.Db()) Assert.Equal(before, await db.Jobs.CountAsync());
    }
}
