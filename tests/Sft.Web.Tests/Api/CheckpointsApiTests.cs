using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Sft.Data.Persistence;
using Sft.Training.Engine;
using Sft.Web.Live;
using Sft.Web.Tests.Auth;

namespace Sft.Web.Tests.Api;

[Collection(AppCollection.Name)]
public class CheckpointsApiTests(TestApp app)
{
    /// <summary>A checkpoint folder with a weights-sized-ish file, a JSON file and a nested file, registered through the event writer.</summary>
    async Task<(JobEntity Job, string Folder, Dictionary<string, byte[]> Files)> CheckpointAsync(long step = 10)
    {
        var job = await app.AddJobAsync();
        var folder = Path.Combine(app.DataDir, "jobs", job.Id, "checkpoints", $"step-{step}");
        var random = new Random((int)step);
        var files = new Dictionary<string, byte[]>
        {
            ["adapter_model.safetensors"] = RandomBytes(random, 3 << 20),
            ["adapter_config.json"] = Encoding.UTF8.GetBytes("{\"r\": 8, \"lora_alpha\": 16}"),
            ["optimizer/state.bin"] = RandomBytes(random, 70_001),
        };
        foreach (var (name, bytes) in files)
        {
            var path = Path.Combine(folder, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, bytes);
        }
        var writer = app.Get<JobEventWriter>();
        writer.SinkFor(job.Id).Publish(new CheckpointEvent(step, folder, CheckpointKind.Adapter, files.Values.Sum(b => (long)b.Length)));
        await writer.FlushAsync();
        return (job, folder, files);
    }

    static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task Checkpoints_are_listed_with_their_files()
    {
        var (job, _, files) = await CheckpointAsync();
        using var client = app.Client();
        var list = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job.Id}/checkpoints");
        var checkpoint = list.GetProperty("data").EnumerateArray().Single();
        Assert.Equal("fine_tuning.job.checkpoint", checkpoint.GetProperty("object").GetString());
        Assert.Equal(10, checkpoint.GetProperty("step_number").GetInt64());
        Assert.Equal("adapter", checkpoint.GetProperty("kind").GetString());
        Assert.Equal($"/api/v1/jobs/{job.Id}/checkpoints/10/download", checkpoint.GetProperty("download_url").GetString());

        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job.Id}/checkpoints/10");
        var listed = detail.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("path").GetString()!, f => f.GetProperty("bytes").GetInt64());
        Assert.Equal(files.ToDictionary(f => f.Key, f => (long)f.Value.Length), listed);
        await AuthTests.ProblemOf(await client.GetAsync($"/api/v1/jobs/{job.Id}/checkpoints/11"), HttpStatusCode.NotFound);
        await AuthTests.ProblemOf(await client.GetAsync("/api/v1/jobs/ftjob-missing/checkpoints"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_download_is_a_zip_of_the_folder_with_identical_bytes()
    {
        var (job, _, files) = await CheckpointAsync();
        using var client = app.Client();
        using var response = await client.GetAsync($"/api/v1/jobs/{job.Id}/checkpoints/10/download", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"{job.Id}-step-10.zip", response.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Null(response.Content.Headers.ContentLength);                         // streamed, not staged

        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), zip.Entries.Select(e => e.FullName));
        foreach (var entry in zip.Entries)
        {
            using var copy = new MemoryStream();
            await using (var stream = await entry.OpenAsync()) await stream.CopyToAsync(copy);
            Assert.Equal(files[entry.FullName], copy.ToArray());
            Assert.Equal(entry.Length, entry.CompressedLength);                       // stored, not deflated
        }
    }

    [Fact]
    public async Task Single_files_support_range_etag_and_head()
    {
        var (job, _, files) = await CheckpointAsync();
        var weights = files["adapter_model.safetensors"];
        using var client = app.Client();
        var url = $"/api/v1/jobs/{job.Id}/checkpoints/10/files/adapter_model.safetensors";

        var whole = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("bytes", whole.Headers.AcceptRanges.Single());
        Assert.Equal(weights, await whole.Content.ReadAsByteArrayAsync());
        var etag = whole.Headers.ETag!;

        var range = new HttpRequestMessage(HttpMethod.Get, url);
        range.Headers.Range = new RangeHeaderValue(1000, 1999);
        var partial = await client.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal($"bytes 1000-1999/{weights.Length}", partial.Content.Headers.ContentRange!.ToString());
        Assert.Equal(weights[1000..2000], await partial.Content.ReadAsByteArrayAsync());

        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(weights.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(conditional)).StatusCode);

        var nested = await client.GetAsync($"/api/v1/jobs/{job.Id}/checkpoints/10/files/optimizer/state.bin");
        Assert.Equal(files["optimizer/state.bin"], await nested.Content.ReadAsByteArrayAsync());
        var json = await client.GetAsync($"/api/v1/jobs/{job.Id}/checkpoints/10/files/adapter_config.json");
        Assert.Equal("application/json", json.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Paths_that_leave_the_checkpoint_or_the_data_folder_are_refused()
    {
        var (job, folder, _) = await CheckpointAsync();
        var secret = Path.Combine(Path.GetTempPath(), $"sft-outside-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(secret, "outside the data folder");
        File.CreateSymbolicLink(Path.Combine(folder, "escape.txt"), secret);
        Directory.CreateSymbolicLink(Path.Combine(folder, "escape-dir"), Path.GetTempPath());
        File.CreateSymbolicLink(Path.Combine(folder, "app-db"), Path.Combine(app.DataDir, "sft.db"));
        using var client = app.Client();
        var files = $"/api/v1/jobs/{job.Id}/checkpoints/10/files/";
        try
        {
            foreach (var path in new[] { "..%2F..%2F..%2F..%2Fsft.db", "%2Fetc%2Fpasswd", "optimizer%2F..%2F..%2Fstep-10%2Fadapter_config.json" })
            {
                var response = await client.GetAsync(files + path);
                Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            }
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(files + "escape.txt")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(files + "escape-dir/" + Path.GetFileName(secret))).StatusCode);

            // Dot segments on the wire, unnormalised by any client library.
            var raw = await RawGetAsync($"{files}../../../../sft.db");
            Assert.DoesNotContain("SQLite format", raw);
            Assert.Matches("^HTTP/1.1 (400|404)", raw);

            // Links are neither listed nor zipped.
            var detail = await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job.Id}/checkpoints/10");
            Assert.DoesNotContain(detail.GetProperty("files").EnumerateArray(), f => f.GetProperty("path").GetString()!.StartsWith("escape") || f.GetProperty("path").GetString() == "app-db");
            var zip = new ZipArchive(new MemoryStream(await client.GetByteArrayAsync($"/api/v1/jobs/{job.Id}/checkpoints/10/download")));
            Assert.Equal(3, zip.Entries.Count);

            // A checkpoint row that points outside the data folder serves nothing.
            await using (var db = app.Db())
            {
                db.Checkpoints.Add(new CheckpointEntity { JobId = job.Id, Step = 99, Path = Path.GetTempPath(), Kind = CheckpointKindEntity.Full, CreatedAt = DateTimeOffset.UtcNow });
                await db.SaveChangesAsync();
            }
            var outside = await AuthTests.ProblemOf(await client.GetAsync($"/api/v1/jobs/{job.Id}/checkpoints/99/download"), HttpStatusCode.NotFound);
            Assert.Equal("checkpoint_missing", outside.GetProperty("code").GetString());
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/jobs/{job.Id}/checkpoints/99/files/{Path.GetFileName(secret)}")).StatusCode);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    async Task<string> RawGetAsync(string path)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(app.BaseAddress.Host, app.BaseAddress.Port);
        await using var stream = tcp.GetStream();
        var request = $"GET {path} HTTP/1.1\r\nHost: {app.BaseAddress.Authority}\r\nAuthorization: Bearer {TestApp.AdminKey}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
