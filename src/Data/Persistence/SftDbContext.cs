using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Sft.Data.Persistence;

/// <summary>The application database (SQLite by default): jobs, their events, metrics and checkpoints,
/// datasets and API keys. Migrations live beside it and are applied at start.</summary>
public sealed class SftDbContext(DbContextOptions<SftDbContext> options) : DbContext(options)
{
    public DbSet<JobEntity> Jobs => Set<JobEntity>();
    public DbSet<JobEventEntity> JobEvents => Set<JobEventEntity>();
    public DbSet<MetricPointEntity> MetricPoints => Set<MetricPointEntity>();
    public DbSet<CheckpointEntity> Checkpoints => Set<CheckpointEntity>();
    public DbSet<DatasetEntity> Datasets => Set<DatasetEntity>();
    public DbSet<ApiKeyEntity> ApiKeys => Set<ApiKeyEntity>();

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
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the context without the web host.</summary>
public sealed class SftDbContextDesignTimeFactory : IDesignTimeDbContextFactory<SftDbContext>
{
    public SftDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SftDbContext>().UseSqlite("Data Source=design.db").Options);
}
