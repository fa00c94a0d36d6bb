using Bunit;
using Hangfire;
using Hangfire.Storage.SQLite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sft.Data.Persistence;
using Sft.Web.Jobs;
using Sft.Web.Live;
using Sft.Web.Storage;
using Sft.Web.Ui;

namespace Sft.Web.UiTests.Components;

/// <summary>
/// A bUnit context with the dashboard's real services (the job service included) over a temp data folder, a migrated
/// SQLite database and a Hangfire SQLite storage.
/// JS interop is loose (there is no browser); Plotly.Blazor's interop module is set up so its calls are recorded.
/// </summary>
public sealed class UiTestContext : BunitContext
{
    public const string PlotlyModule = "./_content/Plotly.Blazor/plotly-interop-7.2.0.js";

    public string DataDir { get; } = Directory.CreateTempSubdirectory("sft-ui-test-").FullName;
    public BunitJSModuleInterop Plotly { get; }

    public UiTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Plotly = JSInterop.SetupModule(PlotlyModule);
        Plotly.Mode = JSRuntimeMode.Loose;
        var folder = new DataFolder(DataDir);
        Services.AddSingleton(folder);
        Services.AddDbContextFactory<SftDbContext>(o => o.UseSqlite($"Data Source={folder.AppDatabasePath};Pooling=False"));
        Services.AddSingleton<JobNotifier>();
        Services.AddSingleton<JobQueries>();
        Services.AddSingleton(new DeviceQueues(["cpu"], "test"));
        Services.AddSingleton<JobConfigs>();
        Services.AddSingleton<ConfigCheck>();
        Services.AddSingleton<Catalog>();
        Services.AddSingleton<DatasetPreviews>();
        Services.AddSingleton<PlaygroundChoices>();
        Services.AddSingleton<PlaygroundModels>();
        Services.AddSingleton(new Sft.Web.Nodes.NodeIdentity("node-a"));
        Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new Sft.Web.Nodes.NodeOptions()));
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<Sft.Web.Nodes.NodeRegistry>();
        Services.AddLogging();
        // The real job service: jobs are stored in the app database and enqueued in a Hangfire SQLite file (no server
        // runs in these tests, so a queued job stays queued).
        Services.AddSingleton<JobStorage>(new SQLiteStorage(folder.HangfireDatabasePath, new SQLiteStorageOptions()));
        Services.AddSingleton<IBackgroundJobClient>(sp => new BackgroundJobClient(sp.GetRequiredService<JobStorage>()));
        Services.AddSingleton<JobStatusService>();
        Services.AddSingleton<RunningJobs>();
        Services.AddSingleton<JobService>();
        Services.AddSingleton<Microsoft.Extensions.Hosting.IHostApplicationLifetime, Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>();
        Services.AddSingleton<Sft.Web.Datasets.DatasetCatalog>();
        using var db = Db();
        db.Database.Migrate();
    }

    public SftDbContext Db() => Services.GetRequiredService<IDbContextFactory<SftDbContext>>().CreateDbContext();

    public async Task<JobEntity> AddJobAsync(string id, JobStatus status, long step = 0, long total = 0, double? loss = null, DateTimeOffset? created = null)
    {
        var job = new JobEntity
        {
            Id = id, Name = "job " + id, Status = status, ConfigYaml = "seed: 1\n", Device = "cpu",
            CurrentStep = step, TotalSteps = total, LastLoss = loss, CreatedAt = created ?? DateTimeOffset.UtcNow,
        };
        await using var db = Db();
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(DataDir, recursive: true); }
        catch (IOException) { }
    }
}
