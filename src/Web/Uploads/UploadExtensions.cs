using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Sft.Web.Uploads;

public static class UploadExtensions
{
    /// <summary>The server-wide request size limit and the multipart upload helper.</summary>
    public static IServiceCollection AddSftUploads(this IServiceCollection services)
    {
        services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section)
            .Validate(o => o.MaxRequestBytes > 0 && o.MaxUploadBytes > 0 && o.MaxFieldBytes > 0,
                "Sft:Uploads: MaxRequestBytes, MaxUploadBytes and MaxFieldBytes must be positive byte counts.")
            .ValidateOnStart();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<UploadOptions>>((kestrel, uploads) =>
            kestrel.Limits.MaxRequestBodySize = uploads.Value.MaxRequestBytes);
        services.AddOptions<FormOptions>().Configure<IOptions<UploadOptions>>((form, uploads) =>
            form.MultipartBodyLengthLimit = uploads.Value.MaxRequestBytes);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MultipartUploads>();
        return services;
    }
}
