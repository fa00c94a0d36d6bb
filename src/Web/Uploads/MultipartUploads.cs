using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Sft.Web.Api;
using Sft.Web.Storage;

namespace Sft.Web.Uploads;

/// <summary>
/// Reads a <c>multipart/form-data</c> request as a stream (never buffered whole): checks each file's name, extension
/// and size as it arrives, writes it to a staging folder, runs the content check, and only when every file of the
/// request passed moves them (rename, same disk) into <c>data/uploads/{category}/{stamp}-{id}/</c>. Anything that fails
/// leaves nothing behind and answers a problem naming the field.
/// </summary>
public sealed class MultipartUploads(DataFolder folder, IOptions<UploadOptions> options, TimeProvider clock)
{
    const int MultipartOverhead = 64 << 10;

    public async Task<UploadResult> ReadAsync(HttpContext http, UploadSpec spec, CancellationToken ct)
    {
        var limits = options.Value;
        var maxBytes = spec.MaxBytes ?? limits.MaxUploadBytes;
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Length == 0)
            return Fail(StatusCodes.Status415UnsupportedMediaType, "Content-Type",
                $"Send the upload as multipart/form-data (got '{http.Request.ContentType ?? "no Content-Type"}').", "unsupported_media_type");

        // The upload limit replaces the server-wide request limit for this request only.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = maxBytes + MultipartOverhead;

        var staging = Path.Combine(folder.UploadsDir, ".staging", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            var staged = new List<StagedUpload>();
            // No per-section limit here: CopyAsync counts against the whole upload's budget and says which file broke it.
            var reader = new MultipartReader(HeaderUtilities.RemoveQuotes(mediaType.Boundary).ToString(), http.Request.Body);
            long total = 0;
            for (var section = await reader.ReadNextSectionAsync(ct); section != null; section = await reader.ReadNextSectionAsync(ct))
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                    return Fail(400, "Content-Disposition", "Each part of the upload needs 'Content-Disposition: form-data; name=...'.");
                var field = HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
                if (field.Length == 0) return Fail(400, "Content-Disposition", "A part of the upload has no field name.");

                if (!disposition.IsFileDisposition())
                {
                    var value = await ReadFieldAsync(section.Body, limits.MaxFieldBytes, ct);
                    if (value == null) return Fail(StatusCodes.Status413PayloadTooLarge, field, $"Field '{field}' is longer than {limits.MaxFieldBytes} bytes.", "request_too_large");
                    fields[field] = value;
                    continue;
                }

                var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).ToString();
                if (CheckFileName(fileName, spec) is { } nameError) return Fail(400, field, nameError);
                if (staged.Count == spec.MaxFiles) return Fail(400, field, $"At most {spec.MaxFiles} file(s) per upload.");
                if (staged.Any(s => s.FileName == fileName)) return Fail(400, field, $"The file name '{fileName}' appears twice in the upload.");

                var path = Path.Combine(staging, fileName);
                var (bytes, sha256) = await CopyAsync(section.Body, path, maxBytes - total, ct);
                if (bytes < 0)
                    return Fail(StatusCodes.Status413PayloadTooLarge, field,
                        $"The upload is larger than the limit of {maxBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes (at file '{fileName}').", "request_too_large");
                total += bytes;
                staged.Add(new StagedUpload(field, fileName, path, bytes, sha256));
            }

            if (spec.RequireFile && staged.Count == 0) return Fail(400, "file", "The upload holds no file.");
            if (spec.Validate != null)
                foreach (var file in staged)
                    if (await spec.Validate(file, ct) is { } error) return Fail(400, file.Field, $"File '{file.FileName}': {error}");

            var target = folder.PathOf("uploads", spec.Category,
                $"{clock.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}");
            Directory.CreateDirectory(target);
            var stored = new List<StoredUpload>();
            foreach (var file in staged)
            {
                var destination = Path.Combine(target, file.FileName);
                File.Move(file.StagedPath, destination);
                stored.Add(new StoredUpload(file.Field, file.FileName, destination, folder.ToStored(destination), file.Bytes, file.Sha256));
            }
            return new UploadResult(fields, stored, null);
        }
        catch (InvalidDataException e)
        {
            return Fail(400, "Content-Type", $"The multipart body is malformed: {e.Message}");
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Null when the name is a plain file name with an allowed extension; otherwise what to fix.</summary>
    public static string? CheckFileName(string fileName, UploadSpec spec)
    {
        if (fileName.Length is 0 or > 200) return "The file needs a name of 1 to 200 characters.";
        if (fileName != Path.GetFileName(fileName) || fileName.Contains('/') || fileName.Contains('\\')
            || fileName is "." or ".." || fileName.StartsWith('.') || fileName.Any(char.IsControl) || fileName.Contains(':'))
            return $"'{fileName}' is not a plain file name (no folders, no leading dot, no control characters).";
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        if (!spec.AllowedExtensions.Contains(extension))
            return $"'{fileName}': the extension '{extension}' is not accepted; use one of {string.Join(", ", spec.AllowedExtensions.Order())}.";
        return null;
    }

    static async Task<string?> ReadFieldAsync(Stream body, int maxBytes, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Copies at most <paramref name="budget"/> bytes; returns -1 bytes when the body is longer.</summary>
    static async Task<(long Bytes, string Sha256)> CopyAsync(Stream body, string path, long budget, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > budget) return (-1, "");
            hash.AppendData(buffer, 0, read);
            await file.WriteAsync(buffer.AsMemory(0, read), ct);
        }
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    static UploadResult Fail(int status, string param, string message, string code = "invalid_upload") =>
        new(new Dictionary<string, string>(), [], ApiProblems.Problem(status, status == 413 ? "Upload too large" : "Invalid upload", message, param, code));
}
