using System.IO.Compression;
using System.Reflection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace Sft.Web.Api;

/// <summary>
/// Streams files as a zip while reading them: no temp file, entries stored without compression (weights do not
/// compress), response buffering off. <see cref="ZipArchive"/> writes headers synchronously, so synchronous IO is
/// allowed for this one response.
/// </summary>
public sealed class ZipFolderResult(IReadOnlyList<(FileInfo File, string EntryName)> files, string downloadName) : IResult, IEndpointMetadataProvider
{
    public async Task ExecuteAsync(HttpContext http)
    {
        if (http.Features.Get<IHttpBodyControlFeature>() is { } bodyControl) bodyControl.AllowSynchronousIO = true;
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.ContentType = "application/zip";
        http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = downloadName }.ToString();

        using var zip = new ZipArchive(http.Response.Body, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (file, entryName) in files)
        {
            var entry = zip.CreateEntry(entryName, CompressionLevel.NoCompression);
            entry.LastWriteTime = file.LastWriteTimeUtc;
            await using var source = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
            await using var target = entry.Open();
            await source.CopyToAsync(target, 1 << 20, http.RequestAborted);
        }
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(Stream), ["application/zip"]));
}
