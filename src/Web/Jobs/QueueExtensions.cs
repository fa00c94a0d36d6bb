using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Options;
using Sft.Web.Auth;
using Sft.Web.Nodes;
using Sft.Web.Storage;

namespace Sft.Web.Jobs;

public static class QueueExtensions
{
    /// <summary>
    /// Hangfire with its own storage (never the app database) and one background job server per device queue,
    /// each with a single worker. Jobs are not retried automatically: a training job that failed needs a person
    /// (or an explicit resume), and one killed mid-run comes back through the invisibility timeout instead.
    /// </summary>
    public static IHostApplicationBuilder AddSftQueue(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<QueueOptions>().BindConfiguration(QueueOptions.Section)
            .Validate(o => o.Storage != QueueStorageKind.Postgres || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Sft:Queue:ConnectionString is required when Sft:Queue:Storage is 'postgres' " +
                "(e.g. Host=db;Database=sft;Username=sft;Password=...).")
            .Validate(o => o.InvisibilityTimeout > TimeSpan.Zero && o.QueuePollInterval > TimeSpan.Zero && o.ShutdownTimeout > TimeSpan.Zero,
                "Sft:Queue: InvisibilityTimeout, QueuePollInterval and ShutdownTimeout must be positive (hh:mm:ss).")
            .ValidateOnStart();

        // The queues must be known now: each gets its own hosted server.
        var options = builder.Configuration.GetSection(QueueOptions.Section).Get<QueueOptions>() ?? new QueueOptions();
        var devices = DeviceQueues.Resolve(options.Devices);
        services.AddSingleton(devices);

        // Registered before AddHangfire, whose TryAdd would otherwise hand out the static JobStorage.Current.
        services.AddSingleton<JobStorage>(sp => CreateStorage(sp.GetRequiredService<IOptions<QueueOptions>>().Value, sp.GetRequiredService<DataFolder>()));
        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(sp.GetRequiredService<JobStorage>())
            .UseFilter(new AutomaticRetryAttribute { Attempts = 0 }));

        services.AddSingleton<RunningJobs>();
        services.AddSingleton<DeviceLeases>();
        services.AddSingleton<JobConfigs>();
        services.AddScoped<JobService>();
        services.AddScoped<JobRunner>();

        services.AddHostedService<QueueLock>();
        foreach (var queue in devices.Names)
        {
            services.AddHangfireServer((sp, server) =>
            {
                var queueOptions = sp.GetRequiredService<IOptions<QueueOptions>>().Value;
                server.ServerName = $"{sp.GetRequiredService<NodeIdentity>().Name}:{queue}";
                server.Queues = [queue];
                server.WorkerCount = 1;
                server.ShutdownTimeout = queueOptions.ShutdownTimeout;
                server.SchedulePollingInterval = queueOptions.QueuePollInterval;
            });
        }
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(10));
        services.AddHostedService<QueueStartupLog>();
        return builder;
    }

    static JobStorage CreateStorage(QueueOptions options, DataFolder folder)
    {
        if (options.Storage == QueueStorageKind.Postgres)
            return new PostgreSqlStorage(
                new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(options.ConnectionString!, new PostgreSqlStorageOptions()),
                new PostgreSqlStorageOptions
                {
                    QueuePollInterval = options.QueuePollInterval,
                    InvisibilityTimeout = options.InvisibilityTimeout,
                    // Several nodes share the queue here: keep a running job invisible for as long as it runs.
                    UseSlidingInvisibilityTimeout = true,
                    PrepareSchemaIfNecessary = true,
                });
        return new SQLiteStorage(options.ConnectionString is { Length: > 0 } path ? path : folder.HangfireDatabasePath,
            new SQLiteStorageOptions
            {
                QueuePollInterval = options.QueuePollInterval,
                InvisibilityTimeout = options.InvisibilityTimeout,
            });
    }

    /// <summary>The Hangfire dashboard at <c>/hangfire</c>, behind the app's own authentication (admins only).</summary>
    public static IEndpointConventionBuilder MapSftHangfireDashboard(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = Array.Empty<IDashboardAuthorizationFilter>(),
            DashboardTitle = "SFT Studio queue",
            AppPath = "/",
        }).RequireAuthorization(AuthPolicies.Admin);
}

/// <summary>Says at start which device queues this server serves and why.</summary>
sealed class QueueStartupLog(DeviceQueues devices, IOptions<QueueOptions> options, ILogger<QueueStartupLog> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        log.LogInformation("Job queue: {Storage} storage; device queues {Queues} ({Source}), one worker each",
            options.Value.Storage, string.Join(", ", devices.Names), devices.Source);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
