using System.Globalization;
using Sft.Data.Persistence;

namespace Sft.Web.Ui;

/// <summary>How numbers, durations and sizes read on the dashboard.</summary>
public static class Format
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Loss(double? value) => value is { } v ? v.ToString("0.0000", Inv) : "–";

    public static string Rate(double? tokensPerSecond) => tokensPerSecond is { } v ? v.ToString("#,0", Inv) : "–";

    public static string Eta(double? seconds) => seconds is not { } s || s < 0 || double.IsNaN(s) ? "–"
        : s < 60 ? $"{s:0}s"
        : s < 3600 ? $"{(int)(s / 60)}m {(int)(s % 60):00}s"
        : $"{(int)(s / 3600)}h {(int)(s % 3600 / 60):00}m";

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.00", Inv) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", Inv) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", Inv) + " KiB",
        _ => bytes + " B",
    };

    public static string Time(DateTimeOffset? time) => time is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Inv) : "–";

    public static string Percent(JobEntity job) => job.TotalSteps > 0
        ? (Math.Min(1.0, (double)job.CurrentStep / job.TotalSteps) * 100).ToString("0", Inv) + "%" : "–";

    public static double Fraction(JobEntity job) => job.TotalSteps > 0 ? Math.Min(1.0, (double)job.CurrentStep / job.TotalSteps) : 0;
}
