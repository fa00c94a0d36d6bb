using System.Collections.Concurrent;

namespace Sft.Web.Jobs;

/// <summary>
/// This process's claim on its devices while a job trains. A queue's single worker already keeps two jobs of that queue
/// apart; a data-parallel job enqueued on its first device's queue also trains on other devices, whose queues' workers
/// would otherwise start a job there at the same time. Every run leases all of its devices (in name order, so two
/// multi-device jobs never wait on each other crosswise) and gives them back when it ends.
/// </summary>
public sealed class DeviceLeases
{
    readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Waits until every named device is free, then holds them all until the result is disposed.</summary>
    public async Task<IDisposable> AcquireAsync(IEnumerable<string> devices, CancellationToken ct)
    {
        var held = new List<SemaphoreSlim>();
        try
        {
            foreach (var name in devices.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var gate = _gates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
                await gate.WaitAsync(ct);
                held.Add(gate);
            }
            return new Lease(held);
        }
        catch
        {
            foreach (var gate in held) gate.Release();
            throw;
        }
    }

    /// <summary>Whether a device is leased now (for tests and the nodes view).</summary>
    public bool IsBusy(string device) => _gates.TryGetValue(device, out var gate) && gate.CurrentCount == 0;

    sealed class Lease(List<SemaphoreSlim> held) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1) return;
            foreach (var gate in held) gate.Release();
        }
    }
}
