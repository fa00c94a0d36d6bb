using Sft.Data.Datasets.Sources;
using Sft.Data.Persistence;
using Sft.Web.Components.Pages.NewJob;

namespace Sft.Web.UiTests.Components;

/// <summary>The New job page's dataset picker: built-in datasets with preview and histogram, Hub imports and their state.</summary>
public class DatasetPickerTests
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public void Picking_the_builtin_dataset_shows_preview_rows_and_the_length_histogram()
    {
        using var ctx = new UiTestContext();
        var page = ctx.Render<NewJob>();
        var builtin = "builtin:" + BuiltinDatasets.Names[0];
        page.WaitForAssertion(() => Assert.NotNull(page.Find($"select[data-field=dataset] option[value='{builtin}']")));
        Assert.Empty(page.FindAll(".dataset-preview"));

        page.Find("select[data-field=dataset]").Change(builtin);
        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll(".preview-row").Count), Wait);
        Assert.Equal(builtin, page.Find(".dataset-preview").GetAttribute("data-dataset"));
        Assert.NotEmpty(page.FindAll(".preview-row .seg-trained"));
        Assert.True(int.Parse(page.Find("[data-chart^=hist]").GetAttribute("data-bins")!) > 1);
        page.WaitForAssertion(() => Assert.NotEmpty(ctx.Plotly.Invocations["newPlot"]), Wait);     // the histogram was drawn
    }

    [Theory]
    [InlineData("not a hub id!")]
    [InlineData("org/../../etc")]
    public void A_bad_hub_id_is_refused_with_the_expected_shape_and_nothing_is_imported(string id)
    {
        using var ctx = new UiTestContext();
        var page = ctx.Render<NewJob>();
        page.Find("input[data-field=hub-id]").Input(id);
        page.Find("button[data-action=import]").Click();
        page.WaitForAssertion(() => Assert.Contains("is not a valid Hugging Face dataset id; write it as org/name", page.Find("[data-import-error]").TextContent));
        Assert.Contains(id, page.Find("[data-import-error]").TextContent);
        using var db = ctx.Db();
        Assert.Empty(db.Datasets);
    }

    [Fact]
    public async Task An_import_in_progress_is_listed_with_its_state_and_cannot_be_picked_yet()
    {
        using var ctx = new UiTestContext();
        await using (var db = ctx.Db())
        {
            db.Datasets.Add(new DatasetEntity
            {
                Id = Sft.Web.Datasets.DatasetCatalog.NewId(), Name = "tatsu-lab/alpaca", Source = "hub", HubId = "tatsu-lab/alpaca",
                Status = "importing", SizeBytes = 3 << 20, CreatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        var page = ctx.Render<NewJob>();
        page.WaitForAssertion(() =>
        {
            var option = page.Find("select[data-field=dataset] option[value='tatsu-lab/alpaca']");
            Assert.True(option.HasAttribute("disabled"));
            Assert.Equal("tatsu-lab/alpaca (importing)", option.TextContent);
        });
    }
}
