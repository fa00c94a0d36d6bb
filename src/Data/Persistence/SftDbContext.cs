using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Sft.Data.Persistence;

/// <summary>The application database (SQLite by default): jobs, their events, metrics and checkpoints,
/// datasets, API keys and the server nodes. Migrations live beside it and are applied at start;
/// PostgreSQL has its own set (<see cref="PostgresSftDbContext"/>).</summary>
public class SftDbContext : DbContext
{
    public SftDbContext(DbContextOptions<SftDbContext> options) : base(options) { }

    /// <summary>For provider-specific subclasses, whose type selects their own migrations.</summary>
    protected SftDbContext(DbContextOptions options) : base(options) { }

    public DbSet<JobEntity> Jobs => Set<JobEntity>();
    public DbSet<JobEventEntity> JobEvents => Set<JobEventEntity>();
    public DbSet<MetricPointEntity> MetricPoints => Set<MetricPointEntity>();
    public DbSet<CheckpointEntity> Checkpoints => Set<CheckpointEntity>();
    public DbSet<DatasetEntity> Datasets => Set<DatasetEntity>();
    public DbSet<ApiKeyEntity> ApiKeys => Set<ApiKeyEntity>();
    public DbSet<NodeEntity> Nodes => Set<NodeEntity>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        // SQLite cannot order by DateTimeOffset; store UTC ticks so time columns sort and compare.
        var time = new ValueConverter<DateTimeOffset, long>(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
        var optionalTime = new ValueConverter<DateTimeOffset?, long?>(
            v => v.HasValue ? v.Value.UtcTicks : null, v => v.HasValue ? new DateTimeOffset(v.Value, TimeSpan.Zero) : null);

        b.Entity<JobEntity>(e =>
        {
            e.HasKey(j => j.Id);
            e.Property(j => j.Status).HasConversion<string>().HasMaxLength(32);
            e.Property(j => j.CreatedAt).HasConversion(time);
            e.Property(j => j.StartedAt).HasConversion(optionalTime);
            e.Property(j => j.FinishedAt).HasConversion(optionalTime);
            e.HasIndex(j => j.Status);
            e.HasIndex(j => j.CreatedAt);
        });
        b.Entity<JobEventEntity>(e =>
        {
            e.Property(x => x.Time).HasConversion(time);
            e.HasIndex(x => new { x.JobId, x.Id });
        });
        b.Entity<MetricPointEntity>(e =>
        {
            e.Property(x => x.Time).HasConversion(time);
            e.HasIndex(x => new { x.JobId, x.Step });
        });
        b.Entity<CheckpointEntity>(e =>
        {
            e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(x => x.CreatedAt).HasConversion(time);
            e.HasIndex(x => new { x.JobId, x.Step });
        });
        b.Entity<DatasetEntity>(e =>
        {
            e.HasKey(d => d.Id);
            e.Property(x => x.CreatedAt).HasConversion(time);
            e.HasIndex(d => d.Name);
        });
        b.Entity<ApiKeyEntity>(e =>
        {
            e.Property(x => x.CreatedAt).HasConversion(time);
            e.Property(x => x.LastUsedAt).HasConversion(optionalTime);
            e.Property(x => x.RevokedAt).HasConversion(optionalTime);
            e.HasIndex(k => k.Hash).IsUnique();
        });
        b.Entity<NodeEntity>(e =>
        {
            e.ToTable("nodes");
            e.HasKey(n => n.Name);
            e.Property(n => n.Name).HasMaxLength(128);
            e.Property(n => n.StartedAt).HasConversion(time);
            e.Property(n => n.LastSeenAt).HasConversion(time);
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the context without the web host.</summary>
public sealed class SftDbContextDesignTimeFactory : IDesignTimeDbContextFactory<SftDbContext>
{
    public SftDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SftDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>
/// The same model on PostgreSQL (several nodes sharing one database). A type of its own so that its migrations
/// (<c>Migrations/Postgres</c>) stay apart from the SQLite ones; code keeps asking for <see cref="SftDbContext"/>.
/// </summary>
public sealed class PostgresSftDbContext(DbContextOptions<PostgresSftDbContext> options) : SftDbContext(options);

/// <summary>Lets <c>dotnet ef migrations add ... --context PostgresSftDbContext</c> build the context (no server needed).</summary>
public sealed class PostgresSftDbContextDesignTimeFactory : IDesignTimeDbContextFactory<PostgresSftDbContext>
{
    public PostgresSftDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresSftDbContext>().UseNpgsql("Host=localhost;Database=sft_design").Options);
}
