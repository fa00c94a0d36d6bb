using Microsoft.AspNetCore.Components;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ScatterLib;
using Sft.Web.Api.Models;
using Sft.Web.Ui;
using PlotLayout = Plotly.Blazor.Layout;

namespace Sft.Web.Components.Charts;

/// <summary>
/// A line chart of stored metrics: drawn from <see cref="History"/> when it opens, then extended with
/// <see cref="AppendAsync"/>. Points that arrive before Plotly has drawn the chart are kept and added once it
/// has (sent earlier, they would be lost). <see cref="LogScale"/> switches the y axis without redrawing.
/// </summary>
public partial class MetricChart
{
    PlotlyChart? _chart;
    ChartSeries _series = new([]);
    IList<ITrace> _data = [];
    PlotLayout _layout = new();
    readonly Config _config = new() { Responsive = true, DisplayLogo = false };
    readonly List<MetricPointDto> _pending = [];
    bool _drawn;
    bool _drawnLogScale;

    [Parameter, EditorRequired] public string Id { get; set; } = "";
    [Parameter, EditorRequired] public string Title { get; set; } = "";
    [Parameter, EditorRequired] public IReadOnlyList<SeriesSpec> Series { get; set; } = [];
    [Parameter] public IReadOnlyList<MetricPointDto> History { get; set; } = [];
    [Parameter] public bool LogScale { get; set; }
    [Parameter] public string? YTitle { get; set; }

    /// <summary>The chart's lines as they stand (tests and the page read point counts from here).</summary>
    public ChartSeries Lines => _series;

    protected override void OnInitialized()
    {
        _series = new ChartSeries(Series);
        _series.Add(History);
        _data = Enumerable.Range(0, _series.Count).Select(Trace).ToList<ITrace>();
        _drawnLogScale = LogScale;
        _layout = new PlotLayout
        {
            Height = 280,
            Margin = new Margin { L = 56, R = 16, T = 8, B = 40 },
            ShowLegend = _series.Count > 1,
            Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, Y = 1.12m }],
            XAxis = [new XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = "step" } }],
            YAxis = [Axis(LogScale)],
            PaperBgColor = "rgba(0,0,0,0)",
            PlotBgColor = "rgba(0,0,0,0)",
        };
    }

    ITrace Trace(int index)
    {
        var spec = _series.Spec(index);
        return new Scatter
        {
            Name = spec.Label,
            Mode = ModeFlag.Lines,
            X = _series.X(index).Cast<object>().ToList(),
            Y = _series.Y(index).Cast<object>().ToList(),
            Line = new Line { Color = spec.Color, Width = spec.Smoothed ? 2.5m : 1.5m, Dash = spec.Dashed ? "dash" : null },
            Opacity = spec.Smoothed || _series.Count == 1 ? 1m : 0.55m,
        };
    }

    YAxis Axis(bool log) => new()
    {
        Type = log ? Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Log : Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Linear,
        Title = YTitle == null ? null : new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = YTitle },
    };

    protected override async Task OnParametersSetAsync()
    {
        if (_drawn && LogScale != _drawnLogScale) await RelayoutAsync();
    }

    async Task RelayoutAsync()
    {
        _drawnLogScale = LogScale;
        _layout.YAxis = [Axis(LogScale)];
        await _chart!.Relayout();
    }

    /// <summary>Plotly.Blazor's after-render action (called once the chart is drawn): flush what waited.</summary>
    void OnChartRendered() => _ = InvokeAsync(OnChartRenderedAsync);

    async Task OnChartRenderedAsync()
    {
        if (_drawn) return;
        _drawn = true;
        if (_pending.Count > 0)
        {
            var points = _pending.ToList();
            _pending.Clear();
            await AppendAsync(points);
        }
        if (LogScale != _drawnLogScale) await RelayoutAsync();
    }

    /// <summary>Adds live points (call on the renderer's thread, e.g. inside <c>InvokeAsync</c>).</summary>
    public async Task AppendAsync(IReadOnlyList<MetricPointDto> points)
    {
        if (!_drawn || _chart == null)
        {
            _pending.AddRange(points);
            return;
        }
        var added = _series.Add(points);
        var indices = Enumerable.Range(0, added.Count).Where(i => added[i].X.Count > 0).ToList();
        if (indices.Count == 0) return;
        foreach (var i in indices)
        {
            // Keep the C# copy in step so a later redraw (React) shows the same lines.
            var trace = (Scatter)_data[i];
            foreach (var x in added[i].X) trace.X.Add(x);
            foreach (var y in added[i].Y) trace.Y.Add(y);
        }
        await _chart.ExtendTraces(indices.Select(i => (IEnumerable<object>)added[i].X), indices.Select(i => (IEnumerable<object>)added[i].Y), indices);
        StateHasChanged();
    }
}
