using Sft.Data.Persistence;
using Sft.Web.Components.Pages.Jobs;

namespace Sft.Web.UiTests.Components;

public class JobTableTests
{
    [Fact]
    public async Task Jobs_page_lists_jobs_from_the_database_newest_first_and_filters_by_status()
    {
        using var ctx = new UiTestContext();
        var now = DateTimeOffset.UtcNow;
        await ctx.AddJobAsync("ftjob-old", JobStatus.Succeeded, step: 60, total: 60, loss: 1.25, created: now.AddMinutes(-5));
        await ctx.AddJobAsync("ftjob-new", JobStatus.Running, step: 15, total: 60, loss: 2.5, created: now);

        var page = ctx.Render<JobsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tr[data-job-id]").Count));

        var rows = page.FindAll("tr[data-job-id]");
        Assert.Equal("ftjob-new", rows[0].GetAttribute("data-job-id"));
        Assert.Contains("running", rows[0].QuerySelector(".badge")!.TextContent);
        Assert.Equal("width:25%", rows[0].QuerySelector(".progress .bar")!.GetAttribute("style"));
        Assert.Equal("2.5000", rows[0].QuerySelector("td[data-label=Loss]")!.TextContent.Trim());
        Assert.Equal("/jobs/ftjob-new", rows[0].QuerySelector("a.job-name")!.GetAttribute("href"));

        page.Find("select").Change("succeeded");
        page.WaitForAssertion(() => Assert.Equal("ftjob-old", page.Find("tr[data-job-id]").GetAttribute("data-job-id")));
        Assert.Single(page.FindAll("tr[data-job-id]"));
    }

    [Fact]
    public async Task Jobs_page_refreshes_when_a_job_changes()
    {
        using var ctx = new UiTestContext();
        await ctx.AddJobAsync("ftjob-live", JobStatus.Queued);
        var page = ctx.Render<JobsPage>();
        page.WaitForAssertion(() => Assert.Contains("queued", page.Find(".badge").TextContent));

        await using (var db = ctx.Db())
        {
            var job = await db.Jobs.FindAsync("ftjob-live");
            job!.Status = JobStatus.Running;
            await db.SaveChangesAsync();
        }
        ctx.Services.GetService<Sft.Web.Live.JobNotifier>()!.Publish(new Sft.Web.Api.Models.StatusMessage("ftjob-live", "running", null, 0));

        page.WaitForAssertion(() => Assert.Contains("running", page.Find(".badge").TextContent), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Empty_list_points_to_the_new_job_page()
    {
        using var ctx = new UiTestContext();
        var page = ctx.Render<JobsPage>();
        page.WaitForAssertion(() => Assert.Equal("/jobs/new", page.Find(".empty a").GetAttribute("href")));
    }
}
