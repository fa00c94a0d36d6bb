using Sft.Web;
using Sft.Web.Cli;

// One executable, two faces: `Sft.Web <command> ...` runs a CLI command (score, tokenize, ...);
// anything else starts the server.
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

var app = builder.Build();

app.UseStaticFiles();
app.MapGet("/health", () => Results.Ok(new { status = "ok" }));

await app.RunAsync();
return 0;

/// <summary>Lets tests use <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
