using Sft.Web;
using Sft.Web.Api;
using Sft.Web.Auth;
using Sft.Web.Cli;
using Sft.Web.Hubs;
using Sft.Web.Jobs;
using Sft.Web.Live;
using Sft.Web.Nodes;
using Sft.Web.Storage;
using Sft.Web.Ui;
using Sft.Web.Uploads;

// One executable, two faces: `Sft.Web <command> ...` runs a CLI command (finetune, score, create-model,
// check-config, tokenize, merge-lora, create-api-key); anything else starts the server.
if (args.Length > 0 && CliCommands.TryGet(args[0], out var command))
{
    try { return await command(args[1..]); }
    catch (CliUsageException e) { Console.Error.WriteLine(e.Message); return 2; }
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = ContentRoot.Find(),
});

// Hosted services start in this order and stop in reverse.
builder.Services.AddSftStorage();      // data folder, app database, migrations at start
builder.Services.AddSftAuth();         // API keys, cookie login, policies, bootstrap key
builder.Services.AddSftLive();         // event writer + notifier (before the queue: stops after the jobs)
builder.Services.AddSftNodes();        // node name, heartbeat in the nodes table, job claims (before the queue's workers)
builder.AddSftQueue();                 // Hangfire: own storage, one single-worker server per device queue
builder.Services.AddSftHubs();         // SignalR and its throttled broadcaster
builder.Services.AddSftUploads();      // request size limits, multipart helper
builder.Services.AddSftApi();          // JSON, problem details, OpenAPI
builder.AddSftUi();                    // Blazor dashboard (interactive server components)

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.UseStaticFiles();                  // after authorization: nothing but /health and /login is anonymous

app.MapLoginApi();
app.MapSftApi();
app.MapSftHubs();
app.MapSftHangfireDashboard();
app.MapSftUi();

try { await app.RunAsync(); }
catch (Exception e) when (e is Microsoft.Extensions.Options.OptionsValidationException or InvalidOperationException)
{
    // A setting or the data folder refused the start; the host has logged the details, this is the one-line reason.
    Console.Error.WriteLine($"SFT Studio did not start: {e.Message}");
    return 1;
}
return 0;

/// <summary>Lets tests use <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
