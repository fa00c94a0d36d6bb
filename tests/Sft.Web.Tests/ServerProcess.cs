using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Sft.Web.Tests;

/// <summary>
/// The real server executable (<c>Sft.Web.dll</c> beside the tests) as a child process on a free loopback port,
/// with its own data folder; its output lines are kept. Also runs the same executable's CLI commands.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    readonly Process _process;
    public ConcurrentQueue<string> Output { get; } = new();
    public Uri BaseAddress { get; private set; } = null!;
    public string DataDir { get; }

    ServerProcess(string dataDir, IReadOnlyDictionary<string, string> environment)
    {
        DataDir = dataDir;
        _process = new Process { StartInfo = StartInfo([], dataDir, environment) };
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) Output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) Output.Enqueue(e.Data); };
    }

    public static async Task<ServerProcess> StartAsync(string dataDir, IReadOnlyDictionary<string, string>? environment = null)
    {
        var server = new ServerProcess(dataDir, environment ?? new Dictionary<string, string>());
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (server.Output.Select(l => Listening().Match(l)).FirstOrDefault(m => m.Success) is { } match)
            {
                server.BaseAddress = new Uri(match.Groups[1].Value);
                return server;
            }
            if (server._process.HasExited)
            {
                await server._process.WaitForExitAsync();   // drains the redirected streams: the last lines say why
                throw new InvalidOperationException($"The server exited with {server._process.ExitCode}:\n{string.Join('\n', server.Output)}");
            }
            await Task.Delay(50);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"The server did not listen within 60 s:\n{string.Join('\n', server.Output)}");
    }

    /// <summary>Runs <c>Sft.Web &lt;args&gt;</c> to completion; returns its exit code, stdout and stderr.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(string dataDir, params string[] args) =>
        RunCliAsync(dataDir, new Dictionary<string, string>(), args);

    /// <summary>Runs <c>Sft.Web &lt;args&gt;</c> to completion with extra environment variables.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(string dataDir, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Process.Start(StartInfo(args, dataDir, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }

    static ProcessStartInfo StartInfo(string[] args, string dataDir, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Sft.Web.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["Sft__DataDir"] = dataDir;
        info.Environment["Urls"] = "http://127.0.0.1:0";
        info.Environment["Auth__BootstrapApiKey"] = "";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return info;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();
}
