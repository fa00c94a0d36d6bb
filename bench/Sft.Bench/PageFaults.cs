namespace Sft.Bench;

/// <summary>Minor page faults of this process so far (<c>/proc/self/stat</c> field 10): memory the allocator
/// handed back to the kernel and touched again. A step that reuses its memory takes few.</summary>
public static class PageFaults
{
    public static long Minor()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // fields from 3 (state) on
        return long.Parse(fields[10 - 3]);
    }
}
