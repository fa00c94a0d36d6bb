using System.Globalization;
using System.Text.RegularExpressions;

namespace Sft.Data.Datasets.Sources;

/// <summary>One end of a slice: a row index or a percentage; negative counts from the end.</summary>
public readonly record struct SliceBound(double Value, bool Percent);

/// <summary>
/// A Hugging Face style split slice, <c>train[:90%]</c>, <c>train[90%:]</c>, <c>train[10:20]</c>,
/// <c>train[-100:]</c>. Percentages round to the nearest row (half to even), as HF's default.
/// </summary>
public sealed partial record SplitSlice(SliceBound? From, SliceBound? To)
{
    /// <summary>Whether resolving needs the split's row count (percentages or negative bounds).</summary>
    public bool NeedsCount => Needs(From) || Needs(To);

    /// <summary>The rows to skip and take out of <paramref name="total"/> rows.</summary>
    public (long Skip, long Take) Resolve(long total)
    {
        long from = From is { } f ? Index(f, total) : 0;
        long to = To is { } t ? Index(t, total) : total;
        return (from, Math.Max(0, to - from));
    }

    /// <summary>Splits <c>name[slice]</c> into the split name and its slice (null when there is none).</summary>
    public static (string Split, SplitSlice? Slice) Parse(string text)
    {
        var match = SliceSyntax().Match(text.Trim());
        if (!match.Success)
            throw new DatasetException($"split '{text}' is not valid; write a name such as 'train', optionally with a slice: 'train[:90%]', 'train[10:20]', 'test[-100:]'.");
        var name = match.Groups["name"].Value;
        if (!match.Groups["slice"].Success) return (name, null);
        return (name, new SplitSlice(Bound(match.Groups["from"].Value), Bound(match.Groups["to"].Value)));
    }

    private static SliceBound? Bound(string text) => text.Length == 0 ? null
        : text.EndsWith('%') ? new SliceBound(double.Parse(text[..^1], CultureInfo.InvariantCulture), true)
        : new SliceBound(double.Parse(text, CultureInfo.InvariantCulture), false);

    private static bool Needs(SliceBound? bound) => bound is { } b && (b.Percent || b.Value < 0);

    private static long Index(SliceBound bound, long total)
    {
        double value = bound.Percent ? Math.Round(bound.Value * total / 100.0, MidpointRounding.ToEven) : bound.Value;
        long index = (long)value;
        if (index < 0) index += total;
        return Math.Clamp(index, 0, total);
    }

    public override string ToString() => $"[{Format(From)}:{Format(To)}]";

    private static string Format(SliceBound? bound) => bound is { } b
        ? b.Value.ToString(CultureInfo.InvariantCulture) + (b.Percent ? "%" : "") : "";

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9_.\-]+)(?<slice>\[\s*(?<from>-?\d+(?:\.\d+)?%?)?\s*:\s*(?<to>-?\d+(?:\.\d+)?%?)?\s*\])?$")]
    private static partial Regex SliceSyntax();
}
