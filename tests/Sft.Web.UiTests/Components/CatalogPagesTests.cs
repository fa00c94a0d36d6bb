using System.Text.Json;
using Sft.Data.Datasets.Loading;
using Sft.Data.Datasets.Sources;
using Sft.Data.Persistence;
using Sft.Web.Components.Pages.Compare;
using Sft.Web.Components.Pages.Datasets;
using Sft.Web.Components.Pages.Models;
using Sft.Web.Components.Shared;
using Sft.Web.Ui;
using Microsoft.Extensions.DependencyInjection;
using Sft.Web.Live;

namespace Sft.Web.UiTests.Components;

/// <summary>The models, datasets and compare pages over a real data folder and SQLite database.</summary>
public class CatalogPagesTests
{
    [Fact]
    public void Models_page_creates_the_demo_model_folder_and_then_describes_it()
    {
        using var ctx = new UiTestContext();
        var page = ctx.Render<ModelsPage>();
        var row = page.Find("tr[data-model='builtin:demo-tiny']");
        Assert.Equal("false", row.GetAttribute("data-exists"));

        page.Find("button[data-create='demo-tiny']").Click();

        page.WaitForAssertion(() => Assert.Equal("true", page.Find("tr[data-model='builtin:demo-tiny']").GetAttribute("data-exists")), TimeSpan.FromSeconds(60));
        var folder = Path.Combine(ctx.DataDir, "models", "demo-tiny");
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        var text = page.Find("tr[data-model='builtin:demo-tiny']").TextContent;
        Assert.Contains(config.RootElement.GetProperty("hidden_size").ToString(), text);
        Assert.Contains(config.RootElement.GetProperty("num_hidden_layers").ToString(), text);
        Assert.Empty(page.FindAll("button[data-create='demo-tiny']"));
    }

    [Fact]
    public void Models_page_lists_a_model_folder_placed_under_the_data_folder()
    {
        using var ctx = new UiTestContext();
        var folder = Directory.CreateDirectory(Path.Combine(ctx.DataDir, "models", "my-llama")).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"),
            """{"architectures":["LlamaForCausalLM"],"hidden_size":64,"num_hidden_layers":2,"vocab_size":1000,"torch_dtype":"float32"}""");

        var page = ctx.Render<ModelsPage>();

        var row = page.Find($"tr[data-model='{folder}']");
        Assert.Contains("LlamaForCausalLM (float32)", row.TextContent);
        Assert.Contains("64 / 2 / 1000", row.TextContent);
    }

    [Fact]
    public async Task Datasets_page_previews_a_builtin_dataset_with_its_statistics_and_histogram()
    {
        using var ctx = new UiTestContext();
        var page = ctx.Render<DatasetsPage>();
        var first = BuiltinDatasets.Names[0];
        Assert.Equal(BuiltinDatasets.Names.Count, page.FindAll("li[data-dataset^='builtin:']").Count);

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-stat=rows]")), TimeSpan.FromSeconds(60));
        var split = await new DatasetLoader().LoadSplitAsync(new DatasetSpec { Path = first });
        var rows = split.Examples().Count();
        Assert.Equal(rows.ToString("N0"), page.Find("[data-stat=rows]").TextContent);
        Assert.Equal(5, page.FindAll(".preview-row").Count);
        Assert.NotEmpty(page.FindAll(".preview-row .seg-trained"));
        Assert.Contains("<|im_start|>", page.Find(".preview-row pre").TextContent);   // the qwen template
        var bins = int.Parse(page.Find("[data-chart^=hist]").GetAttribute("data-bins")!);
        Assert.True(bins > 1);
        page.WaitForAssertion(() => Assert.NotEmpty(ctx.Plotly.Invocations["newPlot"]), TimeSpan.FromSeconds(30));   // drawn after render

        // Another template re-renders the rows with its markers.
        page.Find("select[data-field=template]").Change("llama3");
        page.WaitForAssertion(() => Assert.Contains("<|start_header_id|>", page.Find(".preview-row pre").TextContent), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Datasets_page_lists_an_uploaded_dataset_and_previews_its_file()
    {
        using var ctx = new UiTestContext();
        var path = Path.Combine(ctx.DataDir, "datasets", "upload-1.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllLinesAsync(path,
        [
            """{"instruction":"Say hi","input":"","output":"Hi there!"}""",
            """{"instruction":"Count to three","input":"","output":"One, two, three."}""",
        ]);
        await using (var db = ctx.Db())
        {
            db.Datasets.Add(new DatasetEntity { Id = "ds-1", Name = "my upload", Source = "upload", LocalPath = "datasets/upload-1.jsonl", Rows = 2, Status = "ready", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        var page = ctx.Render<DatasetsPage>();
        page.Find($"li[data-dataset='{path}'] button").Click();

        page.WaitForAssertion(() => Assert.Equal(path, page.Find(".dataset-preview").GetAttribute("data-dataset")));
        page.WaitForAssertion(() => Assert.Equal("2", page.Find("[data-stat=rows]").TextContent), TimeSpan.FromSeconds(60));
        Assert.Contains("Count to three", page.FindAll(".preview-row pre")[1].TextContent);
    }

    /// <summary>
    /// Another dataset picked while the first one's preview is still loading: the first preview, arriving later, does not
    /// land over the second's (it once showed the built-in set's rows under the upload's name).
    /// </summary>
    [Fact]
    public async Task A_preview_still_loading_when_another_dataset_is_picked_does_not_land_over_it()
    {
        using var ctx = new UiTestContext();
        var path = Path.Combine(ctx.DataDir, "datasets", "upload-2.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllLinesAsync(path,
        [
            """{"instruction":"Say hi","input":"","output":"Hi there!"}""",
            """{"instruction":"Count to three","input":"","output":"One, two, three."}""",
        ]);
        var builtin = "builtin:" + BuiltinDatasets.Names[0];

        var panel = ctx.Render<DatasetPreviewPanel>(p => p.Add(c => c.Dataset, builtin));   // its preview starts loading
        panel.Render(p => p.Add(c => c.Dataset, path));
        panel.WaitForAssertion(() => Assert.Equal("2", panel.Find("[data-stat=rows]").TextContent), TimeSpan.FromSeconds(60));

        // The built-in set previewed again from the start: by the time it is done, the panel's earlier load has had its time.
        await ctx.Services.GetRequiredService<DatasetPreviews>().PreviewAsync(builtin, DatasetPreviews.DefaultTemplate);
        panel.Render(p => p.Add(c => c.Dataset, path));
        Assert.Equal(path, panel.Find(".dataset-preview").GetAttribute("data-dataset"));
        Assert.Equal("2", panel.Find("[data-stat=rows]").TextContent);
    }

    [Fact]
    public async Task Compare_page_overlays_the_loss_of_the_ticked_jobs()
    {
        using var ctx = new UiTestContext();
        await ctx.AddJobAsync("ftjob-aaaaaa", JobStatus.Succeeded);
        await ctx.AddJobAsync("ftjob-bbbbbb", JobStatus.Failed);
        await using (var db = ctx.Db())
        {
            for (var step = 1; step <= 4; step++)
                db.MetricPoints.Add(new MetricPointEntity { JobId = "ftjob-aaaaaa", Step = step, Name = MetricNames.Loss, Value = 3.0 / step });
            for (var step = 1; step <= 2; step++)
                db.MetricPoints.Add(new MetricPointEntity { JobId = "ftjob-bbbbbb", Step = step, Name = MetricNames.Loss, Value = 2.0 / step });
            db.MetricPoints.Add(new MetricPointEntity { JobId = "ftjob-bbbbbb", Step = 2, Name = MetricNames.EvalLoss, Value = 1.5 });
            await db.SaveChangesAsync();
        }

        var page = ctx.Render<ComparePage>();
        Assert.Empty(page.FindAll(".chart-card"));
        page.Find("label[data-job-id='ftjob-aaaaaa'] input").Change(true);
        page.WaitForAssertion(() => Assert.Equal("4", page.Find(".chart-card").GetAttribute("data-points")));
        page.Find("label[data-job-id='ftjob-bbbbbb'] input").Change(true);
        page.WaitForAssertion(() => Assert.Equal("6", page.Find(".chart-card").GetAttribute("data-points")));
        Assert.Equal("2", page.Find(".chart-card").GetAttribute("data-lines"));

        page.Find("select[data-field=metric]").Change(MetricNames.EvalLoss);
        page.WaitForAssertion(() => Assert.Equal("1", page.Find(".chart-card").GetAttribute("data-points")));
    }
}
