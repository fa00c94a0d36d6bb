using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sft.Data.Persistence;

namespace Sft.Web.Storage;

public static class StorageExtensions
{
    /// <summary>The data folder, the app database (SQLite unless <c>ConnectionStrings:Sft</c> says otherwise)
    /// and its migration at start.</summary>
    public static IServiceCollection AddSftStorage(this IServiceCollection services, bool migrateAtStart = true)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var contentRoot = sp.GetRequiredService<IHostEnvironment>().ContentRootPath;
            return new DataFolder(Path.GetFullPath(options.DataDir, contentRoot));
        });
        services.AddDbContextFactory<SftDbContext>((sp, db) =>
            db.UseSqlite(AppConnectionString(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<DataFolder>())));
        if (migrateAtStart) services.AddHostedService<DatabaseMigrator>();
        services.AddSftDataProtection();
        return services;
    }

    /// <summary><c>ConnectionStrings:Sft</c>, or the SQLite file <c>sft.db</c> in the data folder.</summary>
    public static string AppConnectionString(IConfiguration configuration, DataFolder folder) =>
        configuration.GetConnectionString(StorageOptions.ConnectionStringName) is { Length: > 0 } configured
            ? configured
            : $"Data Source={folder.AppDatabasePath}";
}
