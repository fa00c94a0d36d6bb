using Sft.Web.Api.Models;

namespace Sft.Web.Ui;

/// <summary>One line of a chart: a stored metric, optionally smoothed and rescaled (bytes to GiB).</summary>
public sealed record SeriesSpec(string Metric, string Label, bool Smoothed = false, double Scale = 1, string? Color = null, bool Dashed = false);

/// <summary>
/// The points of a chart's lines, kept one per step: a point at or before a line's last step is dropped (live
/// batches may repeat what the history already gave). Smoothed lines are an exponential moving average with
/// TensorBoard's debiasing, so the first points are not pulled towards zero.
/// </summary>
public sealed class ChartSeries
{
    public const double SmoothingWeight = 0.9;
    readonly Line[] _lines;

    public ChartSeries(IReadOnlyList<SeriesSpec> specs) => _lines = specs.Select(s => new Line(s)).ToArray();

    public int Count => _lines.Length;
    public SeriesSpec Spec(int index) => _lines[index].Spec;
    public IReadOnlyList<long> X(int index) => _lines[index].X;
    public IReadOnlyList<double> Y(int index) => _lines[index].Y;
    public int PointCount => _lines.Sum(l => l.X.Count);

    /// <summary>Adds the points that are new; returns, per line, the x and y values added (empty lists when none).</summary>
    public IReadOnlyList<(List<object> X, List<object> Y)> Add(IEnumerable<MetricPointDto> points)
    {
        var added = _lines.Select(_ => (X: new List<object>(), Y: new List<object>())).ToArray();
        foreach (var p in points.OrderBy(p => p.Step))
            for (var i = 0; i < _lines.Length; i++)
                if (_lines[i].Spec.Metric == p.Name && _lines[i].TryAdd(p.Step, p.Value, out var y))
                {
                    added[i].X.Add(p.Step);
                    added[i].Y.Add(y);
                }
        return added;
    }

    sealed class Line(SeriesSpec spec)
    {
        double _ema;
        int _n;
        public SeriesSpec Spec { get; } = spec;
        public List<long> X { get; } = [];
        public List<double> Y { get; } = [];

        public bool TryAdd(long step, double value, out double y)
        {
            y = 0;
            if (X.Count > 0 && step <= X[^1]) return false;
            if (double.IsNaN(value) || double.IsInfinity(value)) return false;
            value *= Spec.Scale;
            if (Spec.Smoothed)
            {
                _n++;
                _ema = SmoothingWeight * _ema + (1 - SmoothingWeight) * value;
                value = _ema / (1 - Math.Pow(SmoothingWeight, _n));
            }
            X.Add(step);
            Y.Add(value);
            y = value;
            return true;
        }
    }
}
