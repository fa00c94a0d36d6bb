using Microsoft.Extensions.Options;
using Sft.Web.Storage;

namespace Sft.Web.Jobs;

/// <summary>
/// With SQLite queue storage or a SQLite app database only one server process may use a data folder: two would hand the same job to two
/// workers once its invisibility timeout passed. The first server holds an exclusive lock on <c>data/server.lock</c>
/// for its lifetime (the system drops it when the process dies, so a crash never blocks the restart); a second one
/// refuses to start. Registered before the Hangfire servers, so it is taken before any job is fetched.
/// </summary>
public sealed class QueueLock(DataFolder folder, IOptions<QueueOptions> options, IOptions<DatabaseOptions> database, ILogger<QueueLock> log) : IHostedService, IDisposable
{
    FileStream? _lock;

    public string LockPath => folder.PathOf("server.lock");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Nodes sharing a PostgreSQL queue and database also share the data folder (jobs, checkpoints, uploads, keys).
        if (options.Value.Storage == QueueStorageKind.Postgres && database.Value.Provider == DatabaseProvider.Postgres)
            return Task.CompletedTask;
        try
        {
            _lock = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"Another SFT Studio server is using the data folder {folder.Root} (it holds {LockPath}). " +
                "Stop it, or give this one its own Sft:DataDir; several servers sharing one queue and data folder need " +
                "Sft:Queue:Storage=postgres and Sft:Database:Provider=postgres.", e);
        }
        log.LogDebug("Holding {LockPath}", LockPath);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _lock?.Dispose();
}
