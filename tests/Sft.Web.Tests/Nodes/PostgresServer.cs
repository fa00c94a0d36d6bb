using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Sft.Web.Tests.Nodes;

/// <summary>
/// A real PostgreSQL server for the test run: <c>initdb</c> on a temp folder, <c>pg_ctl start</c> on a free loopback
/// port with its socket in that folder, <c>pg_ctl stop -m immediate</c> and the folder removed at the end. PostgreSQL
/// refuses to run as root, so under uid 0 the tools run as the <c>postgres</c> user (Debian's package creates it).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    const string Superuser = "sft";
    readonly string _dir = Path.Combine(Path.GetTempPath(), "sft-pg-" + Guid.NewGuid().ToString("N")[..12]);
    string _bin = "";
    int _database;

    public int Port { get; private set; }

    string DataDir => Path.Combine(_dir, "data");

    public async Task InitializeAsync()
    {
        _bin = FindBin();
        Directory.CreateDirectory(_dir);
        if (Environment.IsPrivilegedProcess)
            await RunAsync("chown", "postgres:postgres", _dir);
        Port = FreePort();
        await RunToolAsync("initdb", "-D", DataDir, "-U", Superuser, "--auth=trust", "--no-sync", "-E", "UTF8");
        await RunToolAsync("pg_ctl", "start", "-w", "-t", "60", "-D", DataDir, "-l", Path.Combine(_dir, "server.log"),
            "-o", $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200");
    }

    /// <summary>A new empty database on the server; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"sft_test_{Interlocked.Increment(ref _database)}_{Guid.NewGuid().ToString("N")[..6]}";
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={Superuser};Database={database};Pooling=true;Maximum Pool Size=20";

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try { await RunToolAsync("pg_ctl", "stop", "-m", "immediate", "-D", DataDir); }
        finally { Directory.Delete(_dir, recursive: true); }
    }

    static string FindBin() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
                ?? throw new InvalidOperationException("No initdb under /usr/lib/postgresql/*/bin: apt-get install -y postgresql")
            : throw new InvalidOperationException("PostgreSQL is not installed (/usr/lib/postgresql is missing): apt-get install -y postgresql");

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    Task RunToolAsync(string tool, params string[] args) =>
        Environment.IsPrivilegedProcess
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), args);

    static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
