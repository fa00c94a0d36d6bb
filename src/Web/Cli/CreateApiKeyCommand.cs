using Microsoft.EntityFrameworkCore;
using Sft.Data.Persistence;
using Sft.Web.Auth;
using Sft.Web.Storage;

namespace Sft.Web.Cli;

/// <summary>
/// <c>Sft.Web create-api-key --name NAME [--no-admin] [--data-dir DIR]</c>: issues a key in the server's database
/// (the same configuration as the server: appsettings.json, environment) and prints it once on stdout.
/// </summary>
public static class CreateApiKeyCommand
{
    public const string Name = "create-api-key";

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var options = CliArgs.Parse(Name, args, valued: ["name", "data-dir"], flags: ["no-admin"]);
        var name = options.Require(Name, "name").Trim();
        if (name.Length is 0 or > 100) throw new CliUsageException($"{Name}: --name must have 1 to 100 characters.");
        var isAdmin = !options.Has("no-admin");

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = ContentRoot.Find(), Args = [] });
        if (options.Get("data-dir") is { } dataDir) builder.Configuration[$"{StorageOptions.Section}:DataDir"] = Path.GetFullPath(dataDir);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSftStorage(migrateAtStart: false);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ApiKeyStore>();
        using var host = builder.Build();

        var dbFactory = host.Services.GetRequiredService<IDbContextFactory<SftDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
            await DatabaseMigrator.MigrateAsync(db);
        var (key, plaintext) = await host.Services.GetRequiredService<ApiKeyStore>().CreateAsync(name, isAdmin);

        await stderr.WriteLineAsync($"Created {(isAdmin ? "admin " : "")}API key {key.Id} '{key.Name}' in {host.Services.GetRequiredService<DataFolder>().Root}. " +
                                    "It is shown once; use it as 'Authorization: Bearer <key>' or on /login.");
        await stdout.WriteLineAsync(plaintext);
        return 0;
    }
}
