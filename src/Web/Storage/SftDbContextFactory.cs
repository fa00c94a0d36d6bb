using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;

namespace Sft.Web.Storage;

/// <summary>Hands out the app database's context for the configured provider: <see cref="SftDbContext"/> on SQLite,
/// <see cref="PostgresSftDbContext"/> (same model, its own migrations) on PostgreSQL.</summary>
public sealed class SftDbContextFactory : IDbContextFactory<SftDbContext>
{
    readonly Func<SftDbContext> _create;

    public SftDbContextFactory(DatabaseProvider provider, string connectionString)
    {
        Provider = provider;
        if (provider == DatabaseProvider.Postgres)
        {
            var options = new DbContextOptionsBuilder<PostgresSftDbContext>().UseNpgsql(connectionString).Options;
            _create = () => new PostgresSftDbContext(options);
        }
        else
        {
            var options = new DbContextOptionsBuilder<SftDbContext>().UseSqlite(connectionString).Options;
            _create = () => new SftDbContext(options);
        }
    }

    public DatabaseProvider Provider { get; }

    public SftDbContext CreateDbContext() => _create();
}
