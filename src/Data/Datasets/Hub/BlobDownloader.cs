using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Sft.Data.Datasets.Hub;

/// <summary>
/// Downloads one blob into <c>blobs/{etag}.incomplete</c>, resuming with HTTP Range after a dropped
/// connection (within this call, and across calls since the partial file stays), checks the size and,
/// when the etag is a sha256 (LFS files), the checksum, then renames it to <c>blobs/{etag}</c>.
/// A lock file keeps two processes from writing the same blob.
/// </summary>
internal sealed partial class BlobDownloader(HttpClient http, HubOptions options, HubCache cache, Action<HttpRequestMessage> authorize)
{
    private const int ReportEvery = 1 << 20;

    public async Task DownloadAsync(string repoId, string path, HubFileMetadata meta, string blob,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        await using var fileLock = await LockAsync(cache.LockPath(repoId, meta.ETag), ct);
        if (File.Exists(blob)) return; // another process finished it while we waited

        var incomplete = blob + ".incomplete";
        int failures = 0;
        while (true)
        {
            long offset = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            if (meta.Size is { } expected && offset > expected)
            {
                File.Delete(incomplete);
                offset = 0;
            }
            try
            {
                if (meta.Size is not { } size || offset < size || size == 0)
                    await FetchAsync(repoId, path, meta, incomplete, offset, progress, ct);
                break;
            }
            catch (Exception ex) when (IsTransient(ex, ct))
            {
                failures++;
                long kept = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
                if (failures > options.MaxRetries)
                    throw new HubException(HubErrorKind.Network,
                        $"downloading '{path}' of dataset '{repoId}' failed {failures} times ({ex.Message}). The {kept} bytes received are kept in {incomplete}; run again to resume from there.",
                        inner: ex);
                await Task.Delay(options.RetryDelay * failures, ct);
            }
        }
        await VerifyAsync(repoId, path, meta, incomplete, ct);
        File.Move(incomplete, blob, overwrite: true);
    }

    private async Task FetchAsync(string repoId, string path, HubFileMetadata meta, string incomplete, long offset,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        using var response = await SendFollowingRedirectsAsync(meta.DownloadUri, offset, repoId, path, ct);
        bool partial = response.StatusCode == HttpStatusCode.PartialContent;
        if (partial && response.Content.Headers.ContentRange?.From is { } from && from != offset)
            throw new IOException($"the server resumed at byte {from} instead of {offset}");
        if (!partial) offset = 0; // the server sent the whole file

        await using var file = new FileStream(incomplete, partial ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[1 << 16];
        long done = offset, reported = offset;
        progress?.Report(new DownloadProgress(repoId, path, done, meta.Size));
        while (true)
        {
            int read;
            using (var stall = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                stall.CancelAfter(options.ReadTimeout);
                try
                {
                    read = await body.ReadAsync(buffer, stall.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new IOException($"no data for {options.ReadTimeout.TotalSeconds:0} s");
                }
            }
            if (read == 0) break;
            await file.WriteAsync(buffer.AsMemory(0, read), ct);
            done += read;
            if (done - reported >= ReportEvery)
            {
                reported = done;
                progress?.Report(new DownloadProgress(repoId, path, done, meta.Size));
            }
        }
        await file.FlushAsync(ct);
        if (meta.Size is { } size && done < size) throw new IOException($"the connection closed after {done} of {size} bytes");
        if (reported != done) progress?.Report(new DownloadProgress(repoId, path, done, meta.Size));
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(Uri uri, long offset, string repoId, string path, CancellationToken ct)
    {
        for (int hop = 0; hop < 10; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            authorize(request);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            int status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                uri = new Uri(uri, location);
                response.Dispose();
                continue;
            }
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                response.Dispose();
                throw new IOException("the server refused the resume range; starting over");
            }
            if (!response.IsSuccessStatusCode)
            {
                var error = HubErrors.From(response, options, repoId, "", path);
                response.Dispose();
                throw error;
            }
            return response;
        }
        throw new HubException(HubErrorKind.Server, $"too many redirects downloading '{path}' of dataset '{repoId}'.");
    }

    private static async Task VerifyAsync(string repoId, string path, HubFileMetadata meta, string incomplete, CancellationToken ct)
    {
        long length = new FileInfo(incomplete).Length;
        if (meta.Size is { } size && length != size)
        {
            File.Delete(incomplete);
            throw new HubException(HubErrorKind.Integrity,
                $"'{path}' of dataset '{repoId}' downloaded as {length} bytes but the Hub announced {size}; the file was deleted, run again to download it anew.");
        }
        if (!Sha256Hex().IsMatch(meta.ETag)) return;
        string actual;
        await using (var stream = File.OpenRead(incomplete))
            actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        if (actual != meta.ETag)
        {
            File.Delete(incomplete);
            throw new HubException(HubErrorKind.Integrity,
                $"'{path}' of dataset '{repoId}' has sha256 {actual} but the Hub announced {meta.ETag}; the file was deleted, run again to download it anew.");
        }
    }

    private static async Task<FileStream> LockAsync(string lockPath, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(200, ct);
            }
        }
    }

    private static bool IsTransient(Exception ex, CancellationToken ct) => !ct.IsCancellationRequested && ex switch
    {
        HubException hub => hub.Kind == HubErrorKind.Server && hub.StatusCode is >= 500,
        IOException or HttpRequestException => true,
        TaskCanceledException => true,
        _ => false,
    };

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
