using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Sft.Web.Api.Models;
using Sft.Web.Live;

/// <summary>N dashboard-like SignalR clients of the bench app, started together, counting the metric batches they get.</summary>
sealed class Watchers : IAsyncDisposable
{
    readonly List<HubConnection> _hubs = [];
    int _messages;

    public int Messages => Volatile.Read(ref _messages);

    public static async Task<Watchers> ConnectAsync(BenchApp app, int count)
    {
        var watchers = new Watchers();
        for (var i = 0; i < count; i++)
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(app.BaseAddress, "/hubs/jobs"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(BenchApp.Key))
                .AddJsonProtocol(o => EventJson.Configure(o.PayloadSerializerOptions)).Build();
            hub.On<MetricsMessage>("metrics", _ => Interlocked.Increment(ref watchers._messages));
            watchers._hubs.Add(hub);
        }
        await Task.WhenAll(watchers._hubs.Select(h => h.StartAsync()));
        return watchers;
    }

    public Task JoinAsync(string jobId, long afterStep) => Task.WhenAll(_hubs.Select(h => h.InvokeAsync("Join", jobId, afterStep)));

    public Task LeaveAsync(string jobId) => Task.WhenAll(_hubs.Select(h => h.InvokeAsync("Leave", jobId)));

    public async ValueTask DisposeAsync()
    {
        foreach (var hub in _hubs) await hub.DisposeAsync();
    }
}
