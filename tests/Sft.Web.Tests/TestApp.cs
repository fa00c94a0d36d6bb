using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sft.Data.Persistence;
using Sft.Web.Live;

namespace Sft.Web.Tests;

/// <summary>
/// The real server on a loopback Kestrel port, with its own temp data folder (SQLite app DB, Hangfire DB), a
/// bootstrap admin key, a configured user, real Hangfire servers and a small request limit for the size tests.
/// </summary>
public class TestApp : WebApplicationFactory<Program>
{
    public const string AdminKey = "sft_test-bootstrap-admin-key-0123456789abcdef";
    public const string Username = "operator";
    public const string Password = "correct horse battery staple";
    public const long MaxRequestBytes = 1 << 20;

    public string DataDir { get; } = Directory.CreateTempSubdirectory("sft-web-test-").FullName;
    public ConcurrentQueue<string> Logs { get; } = new();

    public TestApp()
    {
        UseKestrel(0);
        StartServer();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Sft:DataDir", DataDir);
        builder.UseSetting("Auth:BootstrapApiKey", AdminKey);
        builder.UseSetting("Auth:Username", Username);
        builder.UseSetting("Auth:Password", Password);
        builder.UseSetting("Sft:Queue:QueuePollInterval", "00:00:00.200");
        builder.UseSetting("Sft:Queue:ShutdownTimeout", "00:00:05");
        builder.UseSetting("Sft:Uploads:MaxRequestBytes", MaxRequestBytes.ToString());
        builder.ConfigureLogging(logging => logging.AddProvider(new CollectingLoggerProvider(Logs)));
    }

    public Uri BaseAddress
    {
        get
        {
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1"));
        }
    }

    /// <summary>A client that sends <paramref name="key"/> as a bearer token (none when null) and does not follow redirects.</summary>
    public HttpClient Client(string? key = AdminKey)
    {
        // A plain client (the factory's own handlers follow redirects on Kestrel whatever the options say).
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = BaseAddress,
        };
        if (key != null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public HubConnection Hub(string key = AdminKey) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(BaseAddress, "/hubs/jobs"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(key))
            .AddJsonProtocol(o => EventJson.Configure(o.PayloadSerializerOptions))
            .Build();

    public SftDbContext Db() => Services.GetRequiredService<IDbContextFactory<SftDbContext>>().CreateDbContext();

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Adds a job row the way the submit endpoint will.</summary>
    public async Task<JobEntity> AddJobAsync(string? id = null, JobStatus status = JobStatus.Running, DateTimeOffset? createdAt = null)
    {
        var job = new JobEntity
        {
            Id = id ?? "ftjob-" + Guid.NewGuid().ToString("N")[..12],
            Name = "test job",
            ConfigYaml = "model: tiny\n",
            Status = status,
            Device = "cpu",
            CreatedAt = createdAt ?? DateTimeOffset.UtcNow,
        };
        await using var db = Db();
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataDir, recursive: true); }
        catch (IOException) { }          // Hangfire's pooled connections may still hold the file for a moment
    }
}

/// <summary>One app for all tests of the collection (starting it takes a couple of seconds). Only one in-process host
/// per test run: Hangfire keeps process-wide state (log provider, global configuration) that a second host would replace;
/// tests needing another server start the real executable (<see cref="ServerProcess"/>).</summary>
[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<TestApp>
{
    public const string Name = "app";
}

/// <summary>Keeps log lines so tests can read what the server told its operator.</summary>
public sealed class CollectingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);
    public void Dispose() { }

    sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
        }
    }
}
