namespace Sft.Training.Pipeline;

/// <summary>
/// The order of the samples in each epoch, a pure function of (count, seed, epoch) that any language can reproduce:
/// <list type="number">
/// <item>SplitMix64 (Steele, Lea, Flood 2014): <c>state += 0x9E3779B97F4A7C15; z = state;
///   z = (z ^ (z &gt;&gt; 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z &gt;&gt; 27)) * 0x94D049BB133111EB; return z ^ (z &gt;&gt; 31)</c>
///   (all mod 2^64), started at <c>state = seed XOR mix(epoch)</c>, where <c>mix(x)</c> is that same function's output
///   for <c>state = x</c>;</item>
/// <item>Fisher–Yates from the end: for i = n-1 down to 1, swap a[i] with a[j], j = bounded(i + 1);</item>
/// <item>bounded(m) is Lemire's unbiased multiply-shift: <c>x * m</c> as a 128-bit product, its high 64 bits, drawing
///   again while the low 64 bits are below <c>(2^64 - m) mod m</c>.</item>
/// </list>
/// Own generator on purpose: System.Random's algorithm is not specified and may change between .NET versions.
/// </summary>
public static class EpochShuffle
{
    const ulong Gamma = 0x9E3779B97F4A7C15;

    public static int[] Permutation(int count, ulong seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var order = new int[count];
        for (var i = 0; i < count; i++) order[i] = i;
        var state = seed ^ Mix((ulong)epoch);
        for (var i = count - 1; i > 0; i--)
        {
            var j = (int)Bounded(ref state, (ulong)i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The next SplitMix64 output.</summary>
    internal static ulong Next(ref ulong state)
    {
        state += Gamma;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    static ulong Mix(ulong x) => Next(ref x);

    static ulong Bounded(ref ulong state, ulong m)
    {
        var high = Math.BigMul(Next(ref state), m, out var low);
        if (low < m)
        {
            var threshold = (0 - m) % m;
            while (low < threshold) high = Math.BigMul(Next(ref state), m, out low);
        }
        return high;
    }
}
