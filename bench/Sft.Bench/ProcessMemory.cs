namespace Sft.Bench;

/// <summary>Resident memory of this process from <c>/proc/self/status</c>: VmRSS now, VmHWM the peak so far (MB).</summary>
public static class ProcessMemory
{
    public static double RssMb() => Read("VmRSS:");

    public static double PeakRssMb() => Read("VmHWM:");

    static double Read(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]) / 1024.0;   // kB
        throw new InvalidOperationException($"/proc/self/status has no {key} line (Linux only).");
    }
}
