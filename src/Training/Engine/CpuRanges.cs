using static TorchSharp.torch;

namespace Sft.Training.Engine;

/// <summary>
/// How the hand-written CPU kernels (AdamW's update, clipping's sum of squares) split [0, n) over threads: one
/// range per libtorch intra-op thread, each starting at a multiple of <c>align</c>, and a single range below
/// 65,536 elements, where starting threads costs more than it saves.
/// </summary>
static class CpuRanges
{
    const long ParallelThreshold = 1 << 16;

    /// <summary>How many ranges <see cref="Run"/> splits <paramref name="n"/> elements into.</summary>
    public static int Count(long n) => n < ParallelThreshold ? 1 : Math.Clamp(get_num_threads(), 1, Environment.ProcessorCount);

    /// <summary>Calls <paramref name="body"/>(range index, start, end) for each range, in parallel when there are several.</summary>
    public static void Run(long n, long align, Action<int, long, long> body)
    {
        var workers = Count(n);
        if (workers == 1)
        {
            body(0, 0, n);
            return;
        }
        var chunk = (n / workers + align - 1) / align * align;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            i => body(i, Math.Min(n, i * chunk), Math.Min(n, (i + 1) * chunk)));
    }
}
