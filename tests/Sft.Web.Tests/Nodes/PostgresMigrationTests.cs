using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Training.Tests;
using Sft.Web.Storage;

namespace Sft.Web.Tests.Nodes;

/// <summary>The PostgreSQL migrations set builds the whole model on an empty database, also when two nodes start at once.</summary>
[Collection(PostgresCollection.Name)]
public class PostgresMigrationTests(PostgresServer postgres)
{
    [Fact]
    public async Task Migrations_apply_to_an_empty_database_from_two_nodes_at_once()
    {
        var factory = new SftDbContextFactory(DatabaseProvider.Postgres, await postgres.CreateDatabaseAsync());
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            await using var db = factory.CreateDbContext();
            await DatabaseMigrator.MigrateAsync(db);
        }));

        await using (var db = factory.CreateDbContext())
        {
            Assert.IsType<PostgresSftDbContext>(db);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            var now = DateTimeOffset.UtcNow;
            db.Jobs.Add(new JobEntity { Id = "ftjob-pg", Name = "pg", ConfigYaml = "x: 1", Node = "node-a", CreatedAt = now });
            db.Nodes.Add(new NodeEntity { Name = "node-a", Devices = "cpu,cuda0", StartedAt = now, LastSeenAt = now });
            await db.SaveChangesAsync();
        }
        await using (var db = factory.CreateDbContext())
        {
            var node = await db.Nodes.SingleAsync();
            Assert.Equal(("node-a", "cpu,cuda0"), (node.Name, node.Devices));
            Assert.Equal("node-a", (await db.Jobs.SingleAsync(j => j.Id == "ftjob-pg")).Node);
        }
    }

    [Fact]
    public async Task The_sqlite_set_still_applies_and_has_the_nodes_table()
    {
        using var dir = new TempDir();
        var factory = new SftDbContextFactory(DatabaseProvider.Sqlite, $"Data Source={Path.Combine(dir.Path, "sft.db")};Pooling=False");
        await using var db = factory.CreateDbContext();
        await DatabaseMigrator.MigrateAsync(db);
        Assert.IsNotType<PostgresSftDbContext>(db);
        Assert.Contains(db.Database.GetMigrations(), m => m.EndsWith("_Nodes", StringComparison.Ordinal));
        Assert.Empty(await db.Nodes.ToListAsync());
    }
}
