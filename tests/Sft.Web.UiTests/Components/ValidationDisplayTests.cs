using Sft.Training.Config;
using Sft.Web.Components.Shared;
using Sft.Web.Ui;

namespace Sft.Web.UiTests.Components;

public class ValidationDisplayTests
{
    /// <summary>The demo preset with a bad learning rate on its line and a key the loader does not know.</summary>
    static (string Yaml, int BadLine) BrokenDemo()
    {
        var lines = ExampleConfigs.Read(ExampleConfigs.DemoTiny).Split('\n').ToList();
        var index = lines.FindIndex(l => l.TrimStart().StartsWith("learning_rate:", StringComparison.Ordinal));
        lines[index] = "  learning_rate: fast";
        lines.Add("colour_of_the_bikeshed: blue");
        return (string.Join('\n', lines), index + 1);
    }

    [Fact]
    public void Panel_shows_each_error_at_its_line_and_the_ignored_keys()
    {
        using var ctx = new UiTestContext();
        var (yaml, badLine) = BrokenDemo();
        var result = ctx.Services.GetService<ConfigCheck>()!.Validate(yaml, []);
        Assert.False(result.IsValid);

        var panel = ctx.Render<ValidationPanel>(p => p.Add(c => c.Result, result));

        Assert.Equal("false", panel.Find(".validation").GetAttribute("data-valid"));
        var error = panel.FindAll("li.issue.error").Single(li => li.GetAttribute("data-line") == badLine.ToString());
        Assert.Contains($"line {badLine}", error.TextContent);
        Assert.Contains("lr_schedule.learning_rate", error.TextContent);
        var flagged = panel.FindAll("li.issue.ignored, li.issue.warning, li.issue.error").Select(li => li.TextContent).ToList();
        Assert.Contains(flagged, t => t.Contains("colour_of_the_bikeshed"));
    }

    [Fact]
    public void Editor_marks_the_error_line_in_the_gutter_and_highlights_yaml()
    {
        using var ctx = new UiTestContext();
        var (yaml, badLine) = BrokenDemo();
        var result = ctx.Services.GetService<ConfigCheck>()!.Validate(yaml, []);

        var editor = ctx.Render<YamlEditor>(p => p.Add(c => c.Value, yaml).Add(c => c.Validation, result));

        var gutter = editor.FindAll(".gutter .line");
        Assert.Equal(yaml.Split('\n').Length, gutter.Count);
        Assert.Contains("err", gutter[badLine - 1].ClassList);
        Assert.DoesNotContain("err", gutter[0].ClassList);
        Assert.Contains(editor.FindAll(".highlight .y-key"), k => k.TextContent == "learning_rate");
        Assert.Contains(editor.FindAll(".highlight .y-comment"), c => c.TextContent.StartsWith("# A demo", StringComparison.Ordinal));
    }

    [Fact]
    public void Valid_preset_shows_valid_with_a_memory_estimate()
    {
        using var ctx = new UiTestContext();
        var result = ctx.Services.GetService<ConfigCheck>()!.Validate(ExampleConfigs.Read(ExampleConfigs.DemoTiny), []);
        Assert.True(result.IsValid, result.Format());

        var panel = ctx.Render<ValidationPanel>(p => p.Add(c => c.Result, result));

        Assert.Equal("true", panel.Find(".validation").GetAttribute("data-valid"));
        Assert.Contains("GB", panel.Find("pre.memory").TextContent);
    }

    [Theory]
    [InlineData("  lr: 1.e-3  # rate", "plain:  |key:lr|plain::|plain: |number:1.e-3|plain:  |comment:# rate")]
    [InlineData("  seq_length: &seq_length 256", "plain:  |key:seq_length|plain::|plain: |anchor:&seq_length |number:256")]
    [InlineData("  - type: MFLossMonitor", "plain:  - |key:type|plain::|plain: |string:MFLossMonitor")]
    [InlineData("resume_training: False", "plain:|key:resume_training|plain::|plain: |bool:False")]
    public void Highlighter_splits_a_line_into_kinds(string line, string expected)
    {
        var tokens = YamlHighlighter.Line(line);
        Assert.Equal(line, string.Concat(tokens.Select(t => t.Text)));
        Assert.Equal(expected, string.Join('|', tokens.Select(t => $"{t.Kind}:{t.Text}")));
    }
}
