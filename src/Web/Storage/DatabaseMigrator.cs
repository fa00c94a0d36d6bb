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

    /// <summary>The PostgreSQL advisory lock key that serialises migrations of nodes starting together ("sft-migr").</summary>
    public const long AdvisoryLockKey = 0x7366742D6D696772;

    /// <summary>Applies pending migrations; on SQLite also switches to WAL so readers never wait for the event writer.
    /// On PostgreSQL the migration runs under a session advisory lock: a node starting beside another waits for its
    /// migration to finish, then finds nothing left to apply.</summary>
    public static async Task MigrateAsync(SftDbContext db, CancellationToken cancellationToken = default)
    {
        if (db.Database.IsNpgsql())
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
                try { await db.Database.MigrateAsync(cancellationToken); }
                finally { await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None); }
            }
            finally { await db.Database.CloseConnectionAsync(); }
            return;
        }
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }
}
