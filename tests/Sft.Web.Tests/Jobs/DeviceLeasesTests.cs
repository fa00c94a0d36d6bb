using Sft.Web.Jobs;

namespace Sft.Web.Tests.Jobs;

/// <summary>A data-parallel job holds all its devices; a job on one of them waits until it ends.</summary>
public class DeviceLeasesTests
{
    [Fact]
    public async Task A_job_on_a_device_waits_for_the_multi_device_job_holding_it()
    {
        var leases = new DeviceLeases();
        var both = await leases.AcquireAsync(["cuda1", "cuda0"], CancellationToken.None);
        Assert.True(leases.IsBusy("cuda0") && leases.IsBusy("cuda1"));

        var single = leases.AcquireAsync(["cuda1"], CancellationToken.None);
        var cpu = await leases.AcquireAsync(["cpu"], CancellationToken.None);       // other devices are unaffected
        await Task.Delay(200);
        Assert.False(single.IsCompleted);

        both.Dispose();
        using var second = await single.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(leases.IsBusy("cuda0"));
        Assert.True(leases.IsBusy("cuda1"));
        cpu.Dispose();
        both.Dispose();                                                          // a second dispose releases nothing twice
        Assert.True(leases.IsBusy("cuda1"));
    }

    [Fact]
    public async Task Two_multi_device_jobs_listing_devices_in_opposite_orders_never_deadlock()
    {
        var leases = new DeviceLeases();
        for (var i = 0; i < 200; i++)
        {
            var a = Task.Run(async () => { using var l = await leases.AcquireAsync(["cuda0", "cuda1"], CancellationToken.None); await Task.Yield(); });
            var b = Task.Run(async () => { using var l = await leases.AcquireAsync(["cuda1", "cuda0"], CancellationToken.None); await Task.Yield(); });
            await Task.WhenAll(a, b).WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.False(leases.IsBusy("cuda0") || leases.IsBusy("cuda1"));
    }

    [Fact]
    public async Task A_cancelled_wait_gives_back_what_it_had_taken()
    {
        var leases = new DeviceLeases();
        var held = await leases.AcquireAsync(["cuda1"], CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leases.AcquireAsync(["cuda0", "cuda1"], cts.Token));
        Assert.False(leases.IsBusy("cuda0"));
        held.Dispose();
    }
}
