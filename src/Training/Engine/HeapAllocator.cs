using System.Runtime.InteropServices;
using System.Text;

namespace Sft.Training.Engine;

/// <summary>
/// How the process's heap allocator treats tensor memory while a training loop runs. libtorch's CPU tensors come
/// from malloc, and a training step frees and allocates again the same ~1 GB of activations and gradients every
/// step, so the allocator decides both the step's speed and the peak memory (bench/RESULTS.md, "Heap allocator").
/// <list type="bullet">
/// <item>Under jemalloc (the Docker image preloads it), freed pages are normally returned to the kernel after a
/// decay time and faulted in again by the next step: 220k faults per 150M fp32 step. <see cref="TrainingLoop"/>
/// turns that decay off while steps run, so a step reuses the last step's pages (10–15% faster steps), and first
/// purges what setup freed, so the spike of loading weights is not kept with them. When the last loop ends the
/// decay times are restored and the freed pages purged.</item>
/// <item>Under glibc, which keeps freed heap memory anyway, the loop only trims what setup freed
/// (<c>malloc_trim</c>) before it starts and again when it ends.</item>
/// </list>
/// Loops may overlap (jobs on different devices in one server): the settings hold until the last one ends.
/// </summary>
public static unsafe class HeapAllocator
{
    static readonly delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int> Mallctl = FindMallctl();
    static readonly object s_gate = new();
    static int s_loops;
    static (long Dirty, long Muzzy)[]? s_saved;
    static string? s_problem;

    static delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int> FindMallctl()
    {
        if (!OperatingSystem.IsLinux()) return null;
        return NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mallctl", out var address)
            ? (delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int>)address
            : null;
    }

    /// <summary>Holds freed pages for reuse until the returned scope is disposed (see the class summary).</summary>
    public static IDisposable TrainingLoop()
    {
        lock (s_gate)
        {
            if (s_loops++ == 0) Enter();
        }
        return new Loop();
    }

    sealed class Loop : IDisposable
    {
        int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            lock (s_gate)
            {
                if (--s_loops == 0) Leave();
            }
        }
    }

    static void Enter()
    {
        // A jemalloc that refuses a setting leaves training as it was (Describe says so); it never stops a run.
        s_problem = null;
        try
        {
            ReturnFreeMemory();                                         // what setup freed goes back
            if (Mallctl is null) return;
            var arenas = (int)Read("arenas.narenas");
            s_saved = Enumerable.Repeat((long.MinValue, long.MinValue), arenas + 1).ToArray();   // MinValue: nothing to restore
            s_saved[arenas] = (Read("arenas.dirty_decay_ms"), Read("arenas.muzzy_decay_ms"));   // the default of arenas made later
            Write("arenas.dirty_decay_ms", -1);
            Write("arenas.muzzy_decay_ms", -1);
            for (var i = 0; i < arenas; i++)
            {
                if (!TryRead($"arena.{i}.dirty_decay_ms", out var dirty) || !TryRead($"arena.{i}.muzzy_decay_ms", out var muzzy))
                    continue;                                            // not initialised
                s_saved[i] = (dirty, muzzy);
                Write($"arena.{i}.dirty_decay_ms", -1);
                Write($"arena.{i}.muzzy_decay_ms", -1);
            }
        }
        catch (InvalidOperationException e)
        {
            s_problem = e.Message;
        }
    }

    static void Leave()
    {
        try
        {
            for (var i = 0; i < (s_saved?.Length ?? 0); i++)
            {
                var (dirty, muzzy) = s_saved![i];
                if (dirty == long.MinValue) continue;
                var arena = i == s_saved.Length - 1 ? "arenas" : $"arena.{i}";
                Write($"{arena}.dirty_decay_ms", dirty);
                Write($"{arena}.muzzy_decay_ms", muzzy);
            }
            ReturnFreeMemory();
        }
        catch (InvalidOperationException e)
        {
            s_problem = e.Message;
        }
        s_saved = null;
    }

    /// <summary>Returns the heap's free memory to the kernel now: a purge of every jemalloc arena, or glibc's
    /// <c>malloc_trim</c>.</summary>
    public static void ReturnFreeMemory()
    {
        if (Mallctl is not null) Write("arena.4096.purge");                 // MALLCTL_ARENAS_ALL
        else if (OperatingSystem.IsLinux()) MallocTrim(0);
    }

    /// <summary>One line for the run's log: which allocator, and what <see cref="TrainingLoop"/> does with it now.</summary>
    public static string Describe()
    {
        if (Mallctl is null) return "heap: glibc malloc; memory freed by setup was returned to the system before the first step (malloc_trim)";
        lock (s_gate)
        {
            if (s_problem is not null) return $"heap: jemalloc; its freed pages could not be kept between steps ({s_problem})";
            return s_saved is { Length: > 1 } saved && saved[0].Dirty != long.MinValue
                ? $"heap: jemalloc; freed pages are kept for the next step while training (dirty decay {DirtyDecayMs} ms, {saved[0].Dirty} ms again afterwards)"
                : $"heap: jemalloc (dirty decay {DirtyDecayMs} ms)";
        }
    }

    /// <summary>Arena 0's dirty-page decay time in ms (-1: never returned), or null under glibc.</summary>
    static long? DirtyDecayMs => Mallctl is not null && TryRead("arena.0.dirty_decay_ms", out var ms) ? ms : null;

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    static long Read(string name) =>
        TryRead(name, out var value) ? value : throw new InvalidOperationException($"jemalloc's mallctl(\"{name}\") failed.");

    // Values are read into 8 bytes: arenas.narenas is an unsigned 32-bit value, the decay times are ssize_t.
    static bool TryRead(string name, out long value)
    {
        long result = 0;
        nuint size = name.EndsWith("narenas", StringComparison.Ordinal) ? 4u : 8u;
        var key = Key(name);
        fixed (byte* k = key)
        {
            var ok = Mallctl(k, &result, &size, null, 0) == 0;
            value = size == 4 ? (uint)result : result;
            return ok;
        }
    }

    /// <summary>Sets a setting (an ssize_t), or with no value runs a command (<c>arena.N.purge</c>).</summary>
    static void Write(string name, long? value = null)
    {
        var key = Key(name);
        var v = value ?? 0;
        fixed (byte* k = key)
        {
            var status = value is null ? Mallctl(k, null, null, null, 0) : Mallctl(k, null, null, &v, 8);
            if (status != 0) throw new InvalidOperationException($"jemalloc's mallctl(\"{name}\"{(value is null ? "" : $", {value}")}) failed ({status}).");
        }
    }

    static byte[] Key(string name) => Encoding.ASCII.GetBytes(name + "\0");
}
