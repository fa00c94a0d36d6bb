using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Sft.Web.Storage;

public static class DataProtectionSetup
{
    /// <summary>Keeps the keys that sign login cookies and antiforgery tokens in <c>data/keys</c>, so logins survive
    /// a restart (and a container's data volume). They are stored unencrypted: protect the data folder.</summary>
    public static IServiceCollection AddSftDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("SftStudio");
        services.AddOptions<KeyManagementOptions>().Configure<DataFolder, ILoggerFactory>((options, folder, logs) =>
            options.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(folder.PathOf("keys")), logs));
        return services;
    }
}
