using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Sft.Web.Tests.Api;

/// <summary>Models and datasets endpoints on the in-process app: the demo model, uploads read in full before they are
/// kept, previews through a template, Hub import input checks.</summary>
[Collection(AppCollection.Name)]
public class CatalogApiTests(TestApp app)
{
    static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task The_demo_model_is_created_and_listed()
    {
        using var client = app.Client();
        var created = await Json(await client.PostAsync("/api/v1/models/demo", null), HttpStatusCode.Created);
        Assert.Equal("builtin:demo-tiny", created.GetProperty("load_checkpoint").GetString());
        Assert.True(created.GetProperty("exists").GetBoolean());
        Assert.True(created.GetProperty("num_layers").GetInt32() > 0);
        Assert.True(File.Exists(Path.Combine(app.DataDir, "models", "demo-tiny", "config.json")));

        var list = await Json(await client.GetAsync("/api/v1/models"), HttpStatusCode.OK);
        var demo = Assert.Single(list.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "demo-tiny");
        Assert.True(demo.GetProperty("size_bytes").GetInt64() > 0);
    }

    [Fact]
    public async Task An_uploaded_dataset_is_counted_listed_and_previewed()
    {
        using var client = app.Client();
        var rows = string.Join("\n", Enumerable.Range(1, 3).Select(i =>
            JsonSerializer.Serialize(new { instruction = $"Add {i} and {i}.", input = "", output = $"{2 * i}" })));
        var form = new MultipartFormDataContent { { new StringContent(rows), "file", "sums.jsonl" } };
        var created = await Json(await client.PostAsync("/api/v1/datasets", form), HttpStatusCode.Created);
        Assert.Equal(3, created.GetProperty("rows").GetInt64());
        Assert.Equal("upload", created.GetProperty("source").GetString());
        var id = created.GetProperty("id").GetString()!;
        Assert.True(File.Exists(Path.Combine(app.DataDir, created.GetProperty("path").GetString()!)));

        var list = await Json(await client.GetAsync("/api/v1/datasets"), HttpStatusCode.OK);
        var ids = list.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()).ToList();
        Assert.Contains("builtin:alpaca_en_demo", ids);
        Assert.Contains(id, ids);

        var preview = await Json(await client.GetAsync($"/api/v1/datasets/{id}/preview?rows=2&template=mindformers_alpaca"), HttpStatusCode.OK);
        var first = preview.GetProperty("rows")[0];
        Assert.Equal(2, preview.GetProperty("rows").GetArrayLength());
        Assert.Contains("Add 1 and 1.", first.GetProperty("text").GetString());
        Assert.True(first.GetProperty("loss_tokens").GetInt32() is > 0 and var loss && loss < first.GetProperty("length").GetInt32());
        Assert.Equal(3, preview.GetProperty("statistics").GetProperty("rows").GetInt32());
        Assert.Equal(3, preview.GetProperty("statistics").GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("count").GetInt32()));
    }

    [Fact]
    public async Task The_builtin_dataset_previews_with_a_histogram_of_all_sampled_rows()
    {
        using var client = app.Client();
        var preview = await Json(await client.GetAsync("/api/v1/datasets/builtin:alpaca_en_demo/preview?seq_length=128"), HttpStatusCode.OK);
        Assert.Equal(5, preview.GetProperty("rows").GetArrayLength());
        var sampled = preview.GetProperty("sampled_rows").GetInt32();
        Assert.InRange(sampled, 100, 1000);
        Assert.Equal(sampled, preview.GetProperty("statistics").GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("count").GetInt32()));
    }

    [Fact]
    public async Task Bad_dataset_uploads_ids_and_hub_ids_are_refused()
    {
        using var client = app.Client();
        long before;
        await using (var db = app.Db()) before = await db.Datasets.CountAsync();
        var garbage = new MultipartFormDataContent { { new StringContent("{\"instruction\": \"a\", \n not json"), "file", "broken.json" } };
        var problem = await Json(await client.PostAsync("/api/v1/datasets", garbage), HttpStatusCode.BadRequest);
        Assert.Equal("file", problem.GetProperty("param").GetString());
        Assert.Contains("broken.json", problem.GetProperty("detail").GetString());
        var traversal = new MultipartFormDataContent { { new StringContent("{}"), "file", "../../x.jsonl" } };
        await Json(await client.PostAsync("/api/v1/datasets", traversal), HttpStatusCode.BadRequest);
        Assert.True(!Directory.Exists(Path.Combine(app.DataDir, "uploads", "datasets"))
                    || Directory.GetFiles(Path.Combine(app.DataDir, "uploads", "datasets"), "broken.json", SearchOption.AllDirectories).Length == 0);

        problem = await Json(await client.PostAsJsonAsync("/api/v1/datasets/import", new { hub_id = "../../etc/passwd" }), HttpStatusCode.BadRequest);
        Assert.Equal("hub_id", problem.GetProperty("param").GetString());
        problem = await Json(await client.PostAsJsonAsync("/api/v1/datasets/import", new { hub_id = "org/name", revision = "-bad rev" }), HttpStatusCode.BadRequest);
        Assert.Equal("revision", problem.GetProperty("param").GetString());
        await Json(await client.GetAsync("/api/v1/datasets/ds-000000000000000000000000/preview"), HttpStatusCode.NotFound);
        problem = await Json(await client.GetAsync("/api/v1/datasets/builtin:alpaca_en_demo/preview?template=no-such-template"), HttpStatusCode.BadRequest);
        Assert.Equal("template", problem.GetProperty("param").GetString());
        await using (var db = app.Db()) Assert.Equal(before, await db.Datasets.CountAsync());
    }

    [Fact]
    public async Task The_demo_config_trains_the_builtin_model_on_the_builtin_dataset_and_clones()
    {
        using var client = app.Client();
        var config = Sft.Training.Config.ExampleConfigs.Read(Sft.Training.Config.ExampleConfigs.DemoTiny);
        var job = await Json(await client.PostAsJsonAsync("/api/v1/jobs",
            new { config_yaml = config, name = "demo", overrides = new[] { "runner_config.max_steps=2", "do_eval=False" } }), HttpStatusCode.Created);
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal("builtin:demo-tiny", job.GetProperty("model").GetString());
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while ((job = await Json(await client.GetAsync($"/api/v1/jobs/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString() is "queued" or "running")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the demo job did not finish: {job}");
            await Task.Delay(200);
        }
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal(2, job.GetProperty("progress").GetProperty("current_step").GetInt64());

        var clone = await Json(await client.PostAsync($"/api/v1/jobs/{id}/clone", null), HttpStatusCode.Created);
        var cloneId = clone.GetProperty("id").GetString()!;
        Assert.NotEqual(id, cloneId);
        Assert.Equal(id, clone.GetProperty("cloned_from").GetString());
        Assert.Equal("demo (copy)", clone.GetProperty("name").GetString());
        var cancelled = await Json(await client.PostAsync($"/api/v1/jobs/{cloneId}/cancel", null), HttpStatusCode.OK);
        Assert.Contains(cancelled.GetProperty("status").GetString(), new[] { "cancelled", "running" });
        while ((clone = await Json(await client.GetAsync($"/api/v1/jobs/{cloneId}"), HttpStatusCode.OK)).GetProperty("status").GetString() != "cancelled")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the clone was not cancelled: {clone}");
            await Task.Delay(200);
        }
    }
}
