namespace Sft.Web.Uploads;

/// <summary>Request and upload size limits (section <c>Sft:Uploads</c>).</summary>
public sealed class UploadOptions
{
    public const string Section = "Sft:Uploads";

    /// <summary>The largest request body of any endpoint that is not an upload (JSON, YAML, forms).</summary>
    public long MaxRequestBytes { get; set; } = 10L << 20;

    /// <summary>The largest upload (all files of one multipart request together).</summary>
    public long MaxUploadBytes { get; set; } = 4L << 30;

    /// <summary>The largest plain (non-file) field of a multipart upload.</summary>
    public int MaxFieldBytes { get; set; } = 1 << 20;
}
