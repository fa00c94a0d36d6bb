using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Sft.Web.Auth;

/// <summary>At start: stores the bootstrap admin key from configuration, or, when nobody could log in,
/// says in the log how to create a key.</summary>
public sealed class ApiKeyBootstrapper(ApiKeyStore store, IOptions<AuthOptions> options, ILogger<ApiKeyBootstrapper> log) : IHostedService
{
    public const string HowToCreateKey =
        "No API key exists yet, so nobody can sign in. Create an admin key on this machine with " +
        "'Sft.Web create-api-key --name admin' (from a checkout: dotnet run --project src/Web -- create-api-key --name admin), " +
        "or start the server with Auth__BootstrapApiKey=sft_<at least 24 random characters>.";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var auth = options.Value;
        if (auth.BootstrapApiKey is { Length: > 0 } key)
        {
            var existing = await store.FindByPlaintextAsync(key, cancellationToken);
            if (existing == null)
            {
                try
                {
                    var added = await store.AddAsync("bootstrap", key, isAdmin: true, cancellationToken);
                    log.LogInformation("Provisioned the admin API key {Prefix}... from Auth:BootstrapApiKey (id {Id})", added.Prefix, added.Id);
                }
                catch (DbUpdateException)
                {
                    // Another node sharing the database may have stored the same key a moment earlier: then all is done.
                    if (await store.FindByPlaintextAsync(key, cancellationToken) == null) throw;
                }
            }
            else if (existing.RevokedAt != null)
                log.LogWarning("Auth:BootstrapApiKey ({Prefix}...) was revoked and stays revoked; remove it from the configuration.", existing.Prefix);
            return;
        }
        if (auth.Username == null && await store.CountActiveAsync(cancellationToken) == 0)
            log.LogWarning(HowToCreateKey);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
