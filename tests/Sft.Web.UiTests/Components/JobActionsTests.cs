using Hangfire;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Sft.Data.Persistence;
using Sft.Web.Components.Pages.Jobs;
using Sft.Web.Components.Pages.NewJob;

namespace Sft.Web.UiTests.Components;

/// <summary>The jobs table's cancel / resume / clone actions through the real JobService, SQLite database and Hangfire storage.</summary>
public class JobActionsTests
{
    // Ids in the service's own shape (it refuses any other).
    static readonly string Queued = Sft.Web.Jobs.JobIds.New(), Done = Sft.Web.Jobs.JobIds.New(), FailedJob = Sft.Web.Jobs.JobIds.New();
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Cancel_then_resume_a_queued_job_from_its_row_requeues_it_in_hangfire()
    {
        using var ctx = new UiTestContext();
        await ctx.AddJobAsync(Queued, JobStatus.Queued);
        await ctx.AddJobAsync(Done, JobStatus.Succeeded, step: 10, total: 10, created: DateTimeOffset.UtcNow.AddMinutes(-1));

        var page = ctx.Render<JobsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("tr[data-job-id]").Count));
        var done = page.Find($"tr[data-job-id={Done}]");
        Assert.Empty(done.QuerySelectorAll("button[data-action]"));                 // a succeeded job can only be cloned
        Assert.Equal($"/jobs/new?clone={Done}", done.QuerySelector("a[data-action=clone]")!.GetAttribute("href"));
        Assert.Null(page.Find($"tr[data-job-id={Queued}]").QuerySelector("button[data-action=resume]"));

        page.Find($"tr[data-job-id={Queued}] button[data-action=cancel]").Click();
        page.WaitForAssertion(() => Assert.Contains("cancelled", page.Find($"tr[data-job-id={Queued}] .badge").TextContent), Wait);
        await using (var db = ctx.Db())
            Assert.Equal(JobStatus.Cancelled, (await db.Jobs.FindAsync(Queued))!.Status);

        page.Find($"tr[data-job-id={Queued}] button[data-action=resume]").Click();
        page.WaitForAssertion(() => Assert.Contains("queued", page.Find($"tr[data-job-id={Queued}] .badge").TextContent), Wait);
        await using (var db = ctx.Db())
        {
            var job = (await db.Jobs.FindAsync(Queued))!;
            Assert.Equal(JobStatus.Queued, job.Status);
            Assert.NotNull(job.BackgroundJobId);
        }
        Assert.Equal(1, ctx.Services.GetRequiredService<JobStorage>().GetMonitoringApi().EnqueuedCount("cpu"));
        Assert.Empty(page.FindAll("[data-action-error]"));
    }

    [Fact]
    public async Task A_refused_action_shows_the_services_reason_above_the_table()
    {
        using var ctx = new UiTestContext();
        await ctx.AddJobAsync(FailedJob, JobStatus.Failed);
        var page = ctx.Render<JobsPage>();
        page.WaitForAssertion(() => page.Find($"tr[data-job-id={FailedJob}] button[data-action=resume]"));

        // Someone else resumed it meanwhile: the row's Resume is now refused by the service with its reason.
        await using (var db = ctx.Db())
        {
            (await db.Jobs.FindAsync(FailedJob))!.Status = JobStatus.Running;
            await db.SaveChangesAsync();
        }
        page.Find($"tr[data-job-id={FailedJob}] button[data-action=resume]").Click();
        page.WaitForAssertion(() => Assert.Contains("only cancelled or failed jobs can be resumed", page.Find("[data-action-error]").TextContent), Wait);
        Assert.Contains("running", page.Find($"tr[data-job-id={FailedJob}] .badge").TextContent);
    }

    [Fact]
    public async Task Clone_opens_new_job_prefilled_with_the_jobs_yaml()
    {
        using var ctx = new UiTestContext();
        var job = await ctx.AddJobAsync("ftjob-source", JobStatus.Succeeded);
        await using (var db = ctx.Db())
        {
            var row = (await db.Jobs.FindAsync(job.Id))!;
            row.ConfigYaml = "seed: 42\nrun_mode: finetune\n";
            await db.SaveChangesAsync();
        }
        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        nav.NavigateTo(nav.GetUriWithQueryParameter("clone", job.Id));
        var page = ctx.Render<NewJob>();
        page.WaitForAssertion(() => Assert.Equal("seed: 42\nrun_mode: finetune\n", page.Find("textarea[aria-label='Config YAML']").GetAttribute("value")), Wait);
    }
}
