using Sft.Data.Datasets.Sources;

namespace Sft.Data.Datasets.Formats;

/// <summary>Turns one raw row into a <see cref="DatasetExample"/>, or throws a <see cref="DatasetException"/> naming the row.</summary>
public interface IRowConverter
{
    DatasetFormat Format { get; }
    DatasetExample Convert(RawRow row);
}

/// <summary>The converter for a format.</summary>
public static class RowConverters
{
    public static IRowConverter Create(DatasetFormat format, ColumnMapping columns) => format switch
    {
        DatasetFormat.Alpaca => new AlpacaFormat(columns),
        DatasetFormat.ShareGpt or DatasetFormat.Messages => new ChatFormat(format, columns),
        DatasetFormat.PreTokenized => new PreTokenizedFormat(columns),
        _ => throw new ArgumentException($"format {format} has no converter; detect it first (FormatDetector).", nameof(format)),
    };
}
