using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sft.Data.Persistence;

namespace Sft.Web.Storage;

public static class StorageExtensions
{
    /// <summary>The data folder, the app database (SQLite, or PostgreSQL when <c>Sft:Database:Provider</c> says so)
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
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddSingleton<IDbContextFactory<SftDbContext>>(sp =>
        {
            var provider = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider;
            var configuration = sp.GetRequiredService<IConfiguration>();
            if (provider == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(configuration.GetConnectionString(StorageOptions.ConnectionStringName)))
                throw new InvalidOperationException(
                    "ConnectionStrings:Sft is required when Sft:Database:Provider is 'postgres' " +
                    "(e.g. Host=db;Database=sft;Username=sft;Password=...).");
            return new SftDbContextFactory(provider, AppConnectionString(configuration, sp.GetRequiredService<DataFolder>()));
        });
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<SftDbContext>>().CreateDbContext());
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
