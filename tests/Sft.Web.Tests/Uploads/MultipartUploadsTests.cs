using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Sft.Web.Storage;
using Sft.Web.Uploads;

namespace Sft.Web.Tests.Uploads;

public class MultipartUploadsTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("sft-uploads-").FullName;
    readonly DataFolder _folder;
    readonly MultipartUploads _uploads;

    static readonly UploadSpec Datasets = new("datasets", new HashSet<string> { ".json", ".jsonl" })
    {
        MaxBytes = 64 << 10,
        Validate = async (file, ct) =>
        {
            try
            {
                await using var stream = File.OpenRead(file.StagedPath);
                using var _ = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
                return null;
            }
            catch (JsonException e) { return $"not valid JSON ({e.Message})"; }
        },
    };

    public MultipartUploadsTests()
    {
        _folder = new DataFolder(_root);
        _uploads = new MultipartUploads(_folder, Options.Create(new UploadOptions { MaxFieldBytes = 1024 }), TimeProvider.System);
    }

    static async Task<DefaultHttpContext> RequestAsync(params (string Field, string? FileName, byte[] Bytes)[] parts)
    {
        var form = new MultipartFormDataContent("sft-test-boundary");
        foreach (var (field, fileName, bytes) in parts)
        {
            var content = new ByteArrayContent(bytes);
            if (fileName == null) form.Add(content, field);
            else
            {
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(content, field, fileName);
            }
        }
        var body = new MemoryStream();
        await form.CopyToAsync(body);
        body.Position = 0;
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.ContentType = form.Headers.ContentType!.ToString();
        http.Request.Body = body;
        return http;
    }

    [Fact]
    public async Task A_valid_upload_is_stored_under_uploads_with_its_hash_and_fields()
    {
        var json = Encoding.UTF8.GetBytes("[{\"instruction\": \"hi\", \"output\": \"hello\"}]");
        var http = await RequestAsync(("name", null, Encoding.UTF8.GetBytes("greetings")), ("file", "alpaca.json", json));
        var result = await _uploads.ReadAsync(http, Datasets, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("greetings", result.Fields["name"]);
        var stored = Assert.Single(result.Files);
        Assert.Equal(("file", "alpaca.json", (long)json.Length), (stored.Field, stored.FileName, stored.Bytes));
        Assert.Equal(json, await File.ReadAllBytesAsync(stored.FullPath));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(json)), stored.Sha256);
        Assert.Matches(@"^uploads/datasets/\d{8}-\d{6}-[0-9a-f]{8}/alpaca\.json$", stored.StoredPath);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "uploads", ".staging")));
    }

    [Theory]
    [InlineData("../../escape.json", "not a plain file name")]
    [InlineData(".hidden.json", "not a plain file name")]
    [InlineData("model.exe", "extension '.exe' is not accepted")]
    public async Task Bad_file_names_are_refused_before_anything_is_written(string fileName, string reason)
    {
        var http = await RequestAsync(("file", fileName, "{}"u8.ToArray()));
        var result = await _uploads.ReadAsync(http, Datasets, CancellationToken.None);
        Assert.False(result.Succeeded);
        Assert.Equal(400, result.Problem!.StatusCode);
        Assert.Equal("file", result.Problem.ProblemDetails.Extensions["param"]);
        Assert.Contains(reason, result.Problem.ProblemDetails.Detail);
        AssertNothingStored();
    }

    [Fact]
    public async Task Oversized_and_invalid_uploads_leave_nothing_behind()
    {
        var big = await _uploads.ReadAsync(await RequestAsync(("file", "big.jsonl", new byte[(64 << 10) + 1])), Datasets, CancellationToken.None);
        Assert.Equal(413, big.Problem!.StatusCode);
        Assert.Contains("larger than the limit of 65,536 bytes", big.Problem.ProblemDetails.Detail);

        var broken = await _uploads.ReadAsync(await RequestAsync(
            ("file", "good.json", "[1, 2]"u8.ToArray()), ("more", "broken.json", "[1, 2"u8.ToArray())), Datasets, CancellationToken.None);
        Assert.Equal(400, broken.Problem!.StatusCode);
        Assert.Equal("more", broken.Problem.ProblemDetails.Extensions["param"]);
        Assert.Contains("File 'broken.json': not valid JSON", broken.Problem.ProblemDetails.Detail);

        var longField = await _uploads.ReadAsync(await RequestAsync(("note", null, new byte[2000]), ("file", "a.json", "{}"u8.ToArray())), Datasets, CancellationToken.None);
        Assert.Equal(413, longField.Problem!.StatusCode);

        var noFile = await _uploads.ReadAsync(await RequestAsync(("name", null, "x"u8.ToArray())), Datasets, CancellationToken.None);
        Assert.Equal("file", noFile.Problem!.ProblemDetails.Extensions["param"]);

        var json = new DefaultHttpContext();
        json.Request.ContentType = "application/json";
        Assert.Equal(415, (await _uploads.ReadAsync(json, Datasets, CancellationToken.None)).Problem!.StatusCode);
        AssertNothingStored();
    }

    void AssertNothingStored()
    {
        Assert.False(Directory.Exists(Path.Combine(_root, "uploads", "datasets")));
        var staging = Path.Combine(_root, "uploads", ".staging");
        Assert.True(!Directory.Exists(staging) || !Directory.EnumerateFileSystemEntries(staging).Any());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
