using System.Runtime.CompilerServices;
using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Loading;

/// <summary>
/// One split of a dataset, ready to read: its files in order, the slice taken from them, and the
/// spec's format and column mapping. Rows stream from disk on every enumeration; nothing is held in memory.
/// </summary>
public sealed class DatasetSplit
{
    private long? _totalRows;
    private DatasetFormat? _format;

    internal DatasetSplit(string name, SplitSlice? slice, IReadOnlyList<DataFile> files, DatasetSpec spec, DatasetSource source)
    {
        Name = name;
        Slice = slice;
        Files = files;
        Spec = spec;
        Source = source;
    }

    public string Name { get; }
    public SplitSlice? Slice { get; }
    public IReadOnlyList<DataFile> Files { get; }
    public DatasetSpec Spec { get; }
    public DatasetSource Source { get; }

    /// <summary>The spec's format, or the one detected from the first row.</summary>
    public async Task<DatasetFormat> DetectFormatAsync(CancellationToken ct = default)
    {
        if (Spec.Format != DatasetFormat.Auto) return Spec.Format;
        if (_format is { } known) return known;
        await foreach (var row in ReadAllRowsAsync(ct))
            return (_format = FormatDetector.Detect(row, Spec.Columns)).Value;
        throw Empty();
    }

    /// <summary>The split's rows as read, slice applied.</summary>
    public async IAsyncEnumerable<RawRow> ReadRowsAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        long skip = 0, take = long.MaxValue;
        if (Slice is { } slice)
            (skip, take) = slice.Resolve(slice.NeedsCount ? await CountAllAsync(ct) : long.MaxValue);
        long index = 0;
        await foreach (var row in ReadAllRowsAsync(ct))
        {
            if (index++ < skip) continue;
            if (take-- <= 0) yield break;
            yield return row;
        }
    }

    /// <summary>The split's examples in order; a row that does not convert stops the read with its location.</summary>
    public async IAsyncEnumerable<DatasetExample> ReadExamplesAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var converter = RowConverters.Create(await DetectFormatAsync(ct), Spec.Columns);
        long count = 0;
        await foreach (var row in ReadRowsAsync(ct))
        {
            count++;
            yield return converter.Convert(row);
        }
        if (count == 0) throw Empty();
    }

    /// <summary>The examples as a blocking sequence, for the trainer's own thread.</summary>
    public IEnumerable<DatasetExample> Examples(CancellationToken ct = default) => ReadExamplesAsync(ct).ToBlockingEnumerable(ct);

    /// <summary>Rows in the split after slicing (reads the files once; the unsliced total is remembered).</summary>
    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        var total = await CountAllAsync(ct);
        return Slice is { } slice ? slice.Resolve(total).Take : total;
    }

    /// <summary>The first <paramref name="rows"/> rows as read, with the detected format or why it could not be detected.</summary>
    public async Task<DatasetPreview> PreviewAsync(int rows = 5, CancellationToken ct = default)
    {
        var first = new List<RawRow>(rows);
        await foreach (var row in ReadRowsAsync(ct))
        {
            if (first.Count >= rows) break;
            first.Add(row);
        }
        var columns = first.SelectMany(r => r.Columns).Distinct().ToList();
        var (format, error) = await TryDetectAsync(ct);
        return new DatasetPreview(columns, first, format, error);
    }

    /// <summary>Per-column and per-example statistics over the whole (sliced) split, in one pass. Rows that do not
    /// convert are counted, not thrown.</summary>
    public async Task<DatasetStats> ComputeStatsAsync(CancellationToken ct = default)
    {
        var (format, error) = await TryDetectAsync(ct);
        var builder = new StatsBuilder(format is { } f ? RowConverters.Create(f, Spec.Columns) : null);
        await foreach (var row in ReadRowsAsync(ct)) builder.Add(row);
        return builder.Build(format, error);
    }

    private async Task<(DatasetFormat?, string?)> TryDetectAsync(CancellationToken ct)
    {
        try
        {
            return (await DetectFormatAsync(ct), null);
        }
        catch (DatasetException ex)
        {
            return (null, ex.Message);
        }
    }

    private async Task<long> CountAllAsync(CancellationToken ct)
    {
        if (_totalRows is { } known) return known;
        long count = 0;
        await foreach (var _ in ReadAllRowsAsync(ct)) count++;
        return (_totalRows = count).Value;
    }

    private async IAsyncEnumerable<RawRow> ReadAllRowsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var file in Files)
            await foreach (var row in DataFileReader.ReadAsync(file, Spec.Field, ct))
                yield return row;
    }

    private DatasetException Empty() => new(
        $"empty dataset: split '{Name}{Slice}' of '{Spec.Path}' has no rows (files: {string.Join(", ", Files.Select(f => f.Name))}). " +
        "Check the files' contents, the data_files patterns and the slice.");
}
