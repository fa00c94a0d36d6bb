using System.Net.Http.Headers;
using Hangfire;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sft.Data.Persistence;
using Sft.Web.Live;

/// <summary>
/// The real app on a loopback port (Kestrel), SQLite and Hangfire storage in a temp data folder, CPU queue only.
/// With <c>workers: false</c> the queue has no Hangfire server: submitted jobs are stored and enqueued, and nothing
/// picks them up (the submit benchmark must not train hundreds of jobs).
/// </summary>
sealed class BenchApp : WebApplicationFactory<Program>
{
    public const string Key = "sft_bench-admin-key-0123456789abcdefghijkl";
    readonly bool _workers;

    public BenchApp(bool workers = false)
    {
        _workers = workers;
        UseKestrel(0);
        StartServer();
    }

    public string DataDir { get; } = Directory.CreateTempSubdirectory("sft-server-bench-").FullName;

    /// <summary>How many Hangfire job servers were taken out (one per device queue) when the app has no workers.</summary>
    public int RemovedWorkers { get; private set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Sft:DataDir", DataDir);
        builder.UseSetting("Auth:BootstrapApiKey", Key);
        builder.UseSetting("Sft:Queue:Devices:0", "cpu");
        builder.UseSetting("Sft:Queue:QueuePollInterval", "00:00:00.200");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");       // the figures, not every queued job's log line
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        if (_workers) return;
        builder.ConfigureServices(services =>
        {
            // AddHangfireServer registers a factory for IHostedService returning BackgroundJobServerHostedService.
            var servers = services.Where(d => d.ServiceType == typeof(IHostedService) &&
                                              d.ImplementationFactory?.Method.ReturnType == typeof(BackgroundJobServerHostedService)).ToList();
            if (servers.Count == 0)
                throw new InvalidOperationException("No Hangfire server registration found to remove; the submit benchmark would train every job it submits.");
            foreach (var server in servers) services.Remove(server);
            RemovedWorkers = servers.Count;
        });
    }

    public Uri BaseAddress => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    public JobEventWriter Writer => Services.GetRequiredService<JobEventWriter>();
    public SftDbContext Db() => Services.GetRequiredService<IDbContextFactory<SftDbContext>>().CreateDbContext();

    /// <summary>A client with the bench's admin key and room for <paramref name="connections"/> parallel connections.</summary>
    public HttpClient Client(int connections = 16) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(5), DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", Key) } };

    public async Task<string> AddJobAsync()
    {
        var id = "ftjob-" + Guid.NewGuid().ToString("N")[..12];
        await using var db = Db();
        db.Jobs.Add(new JobEntity { Id = id, Name = "bench", ConfigYaml = "x: 1", Status = JobStatus.Running, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(DataDir, recursive: true);
    }
}
