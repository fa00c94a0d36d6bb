using Sft.Web.Live;

namespace Sft.Web.Ui;

/// <summary>The lines of each chart on the job page.</summary>
public static class ChartSpecs
{
    const double GiB = 1.0 / (1L << 30);

    public static IReadOnlyList<SeriesSpec> Loss { get; } =
    [
        new(MetricNames.Loss, "train loss", Color: "#7aa7d9"),
        new(MetricNames.Loss, "train loss (smoothed)", Smoothed: true, Color: "#1f5fa8"),
        new(MetricNames.EvalLoss, "eval loss", Color: "#d9480f", Dashed: true),
    ];

    public static IReadOnlyList<SeriesSpec> LearningRate { get; } = [new(MetricNames.LearningRate, "learning rate", Color: "#2b8a3e")];

    public static IReadOnlyList<SeriesSpec> GradNorm { get; } = [new(MetricNames.GradNorm, "grad norm", Color: "#862e9c")];

    public static IReadOnlyList<SeriesSpec> Speed { get; } = [new(MetricNames.TokensPerSecond, "tokens/s", Color: "#e67700")];

    public static IReadOnlyList<SeriesSpec> Memory { get; } =
    [
        new(MetricNames.MemoryRss, "process RSS", Scale: GiB, Color: "#495057"),
        new(MetricNames.MemoryPeakRss, "peak RSS", Scale: GiB, Color: "#868e96", Dashed: true),
        new(MetricNames.GpuAllocated, "GPU allocated", Scale: GiB, Color: "#c2255c"),
        new(MetricNames.GpuReserved, "GPU reserved", Scale: GiB, Color: "#f783ac", Dashed: true),
    ];
}
