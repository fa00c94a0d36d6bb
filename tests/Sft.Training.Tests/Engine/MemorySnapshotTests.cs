using Sft.Training.Engine;

namespace Sft.Training.Tests.Engine;

public class MemorySnapshotTests
{
    // The kernel writes "VmRSS:\t" and the kB figure right-aligned in 8 columns, so from 8 digits (about 9.5 GiB)
    // on no space is left between the tab and the number; splitting on spaces alone crashed a 1.5B-parameter run.
    [Theory]
    [InlineData("VmRSS:\t    1988 kB", 1988L * 1024)]
    [InlineData("VmHWM:\t 9999999 kB", 9999999L * 1024)]
    [InlineData("VmRSS:\t12222328 kB", 12222328L * 1024)]
    [InlineData("VmRSS:\t123456789 kB", 123456789L * 1024)]
    public void Status_lines_parse_at_every_width(string line, long bytes) =>
        Assert.Equal(bytes, MemorySnapshot.StatusBytes(line));

    [Fact]
    public void The_process_snapshot_reads_this_process()
    {
        var snapshot = MemorySnapshot.OfProcess();
        Assert.True(snapshot.ProcessRss > 1 << 20, $"RSS {snapshot.ProcessRss} bytes");
        Assert.True(snapshot.ProcessPeakRss >= snapshot.ProcessRss);
    }
}
