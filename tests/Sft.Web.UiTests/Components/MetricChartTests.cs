using Sft.Web.Api.Models;
using Sft.Web.Components.Charts;
using Sft.Web.Live;
using Sft.Web.Ui;

namespace Sft.Web.UiTests.Components;

public class MetricChartTests
{
    static MetricPointDto P(long step, string name, double value) => new(step, name, value, 0);

    [Fact]
    public void History_fills_raw_smoothed_and_eval_lines()
    {
        using var ctx = new UiTestContext();
        MetricPointDto[] history = [P(1, MetricNames.Loss, 4.0), P(2, MetricNames.Loss, 3.0), P(3, MetricNames.Loss, 2.0), P(3, MetricNames.EvalLoss, 2.5)];

        var chart = ctx.Render<MetricChart>(p => p.Add(c => c.Id, "loss").Add(c => c.Title, "Loss")
            .Add(c => c.Series, ChartSpecs.Loss).Add(c => c.History, history));

        var lines = chart.Instance.Lines;
        Assert.Equal([1L, 2, 3], lines.X(0));
        Assert.Equal([4.0, 3.0, 2.0], lines.Y(0));
        // Debiased EMA: the first smoothed value equals the first raw one, then it lags behind.
        Assert.Equal(4.0, lines.Y(1)[0], 10);
        Assert.Equal((0.9 * 0.1 * 4.0 + 0.1 * 3.0) / (1 - 0.81), lines.Y(1)[1], 10);
        Assert.True(lines.Y(1)[2] > 2.0);
        Assert.Equal([3L], lines.X(2));
        Assert.Equal("7", chart.Find(".chart-card").GetAttribute("data-points"));
        Assert.NotEmpty(ctx.Plotly.Invocations["newPlot"]);
    }

    [Fact]
    public async Task Live_points_extend_only_new_steps()
    {
        using var ctx = new UiTestContext();
        var chart = ctx.Render<MetricChart>(p => p.Add(c => c.Id, "lr").Add(c => c.Title, "LR")
            .Add(c => c.Series, ChartSpecs.LearningRate).Add(c => c.History, [P(1, MetricNames.LearningRate, 1e-3)]));

        // A live batch that repeats the replayed step 1 and adds 2 and 3 (and a point of another metric).
        await chart.InvokeAsync(() => chart.Instance.AppendAsync([P(1, MetricNames.LearningRate, 1e-3), P(2, MetricNames.LearningRate, 9e-4),
            P(3, MetricNames.LearningRate, 8e-4), P(3, MetricNames.Loss, 2.0)]));

        Assert.Equal([1L, 2, 3], chart.Instance.Lines.X(0));
        var extend = Assert.Single(ctx.Plotly.Invocations["extendTraces"]);
        var xs = ((IEnumerable<IEnumerable<object>>)extend.Arguments[1]!).Single().ToList();
        Assert.Equal([2L, 3L], xs.Cast<long>());
        Assert.Equal("3", chart.Find(".chart-card").GetAttribute("data-points"));

        // Nothing new: no call.
        await chart.InvokeAsync(() => chart.Instance.AppendAsync([P(3, MetricNames.LearningRate, 8e-4)]));
        Assert.Single(ctx.Plotly.Invocations["extendTraces"]);
    }

    [Fact]
    public void Log_scale_toggle_relayouts_the_drawn_chart()
    {
        using var ctx = new UiTestContext();
        var chart = ctx.Render<MetricChart>(p => p.Add(c => c.Id, "g").Add(c => c.Title, "Grad")
            .Add(c => c.Series, ChartSpecs.GradNorm).Add(c => c.History, [P(1, MetricNames.GradNorm, 3.0)]));
        chart.Render(p => p.Add(c => c.LogScale, true));
        Assert.NotEmpty(ctx.Plotly.Invocations["relayout"]);
    }
}
