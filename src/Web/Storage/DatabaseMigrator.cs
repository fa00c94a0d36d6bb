using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;

namespace Sft.Web.Storage;

/// <summary>Brings the app database to the newest migration before anything else starts
/// (hosted services start in registration order, before the server accepts requests).</summary>
public sealed class DatabaseMigrator(IDbContextFactory<SftDbContext> dbFactory, ILogger<DatabaseMigrator> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await MigrateAsync(db, cancellationToken);
        log.LogInformation("App database ready: {Database}", db.Database.GetDbConnection().DataSource);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Applies pending migrations; on SQLite also switches to WAL so readers never wait for the event writer.</summary>
    public static async Task MigrateAsync(SftDbContext db, CancellationToken cancellationToken = default)
    {
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }
}
