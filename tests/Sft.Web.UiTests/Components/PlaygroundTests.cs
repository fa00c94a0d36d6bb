using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Sft.Data.Persistence;
using Sft.Web.Components.Pages.Playground;
using Sft.Web.Ui;

namespace Sft.Web.UiTests.Components;

/// <summary>The Playground over the real built-in demo model and checkpoint folders of succeeded jobs.</summary>
public class PlaygroundTests
{
    static async Task AddCheckpointAsync(UiTestContext ctx, string jobId, string relativeFolder, CheckpointKindEntity kind, DateTimeOffset created)
    {
        await ctx.AddJobAsync(jobId, JobStatus.Succeeded, step: 4, total: 4, created: created);
        await using var db = ctx.Db();
        var job = await db.Jobs.FindAsync(jobId);
        job!.BaseModel = "builtin:demo-tiny";
        db.Checkpoints.Add(new CheckpointEntity { JobId = jobId, Step = 4, Path = relativeFolder, Kind = kind, CreatedAt = created });
        await db.SaveChangesAsync();
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    [Fact]
    public async Task One_prompt_streams_into_both_panes_and_a_broken_checkpoint_names_its_missing_file()
    {
        using var ctx = new UiTestContext();
        var demo = await ctx.Services.GetRequiredService<Catalog>().CreateBuiltinModelAsync("demo-tiny");
        // A full checkpoint with the demo model's own weights: greedy decoding must give both panes the same text.
        CopyFolder(demo, Path.Combine(ctx.DataDir, "jobs", "ftjob-same", "checkpoints", "step-4"));
        Directory.CreateDirectory(Path.Combine(ctx.DataDir, "jobs", "ftjob-broken", "checkpoints", "step-4"));
        var now = DateTimeOffset.UtcNow;
        await AddCheckpointAsync(ctx, "ftjob-same", "jobs/ftjob-same/checkpoints/step-4", CheckpointKindEntity.Full, now.AddMinutes(-1));
        await AddCheckpointAsync(ctx, "ftjob-broken", "jobs/ftjob-broken/checkpoints/step-4", CheckpointKindEntity.Adapter, now);

        var nav = ctx.Services.GetRequiredService<NavigationManager>();
        nav.NavigateTo(nav.GetUriWithQueryParameter("job", "ftjob-same"));
        var page = ctx.Render<PlaygroundPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("#pg-checkpoint option").Count));
        Assert.Equal("ftjob-same/4", page.Find("#pg-checkpoint").GetAttribute("value"));
        Assert.Equal("builtin:demo-tiny", page.Find("#pg-base").GetAttribute("value"));

        page.Find("#pg-max").Change("12");
        page.Find("#pg-prompt").Input("Name three colours.");
        page.Find("#pg-send").Click();
        page.WaitForAssertion(() =>
        {
            Assert.Equal("done", page.Find("[data-pane=base] .chat-state").TextContent);
            Assert.Equal("done", page.Find("[data-pane=checkpoint] .chat-state").TextContent);
        }, TimeSpan.FromSeconds(60));
        var baseText = page.Find("[data-pane=base] [data-reply]").TextContent;
        Assert.False(string.IsNullOrEmpty(baseText));
        Assert.Equal(baseText, page.Find("[data-pane=checkpoint] [data-reply]").TextContent);
        Assert.Contains(demo, page.Find("[data-pane=base]").TextContent);

        page.Find("#pg-checkpoint").Change("ftjob-broken/4");
        page.Find("#pg-send").Click();
        page.WaitForAssertion(() => Assert.Equal("failed", page.Find("[data-pane=checkpoint] .chat-state").TextContent), TimeSpan.FromSeconds(60));
        Assert.Contains("adapter_config.json missing", page.Find("[data-pane=checkpoint] [data-error]").TextContent);
        page.WaitForAssertion(() => Assert.Equal("done", page.Find("[data-pane=base] .chat-state").TextContent), TimeSpan.FromSeconds(60));
        Assert.Equal(baseText, page.Find("[data-pane=base] [data-reply]").TextContent);     // greedy: same answer again
    }

    [Fact]
    public async Task Stop_ends_a_long_generation_in_both_panes()
    {
        using var ctx = new UiTestContext();
        var demo = await ctx.Services.GetRequiredService<Catalog>().CreateBuiltinModelAsync("demo-tiny");
        CopyFolder(demo, Path.Combine(ctx.DataDir, "jobs", "ftjob-long", "checkpoints", "step-4"));
        await AddCheckpointAsync(ctx, "ftjob-long", "jobs/ftjob-long/checkpoints/step-4", CheckpointKindEntity.Full, DateTimeOffset.UtcNow);

        var page = ctx.Render<PlaygroundPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("#pg-checkpoint option")));
        page.Find("#pg-max").Change("3000");
        page.Find("#pg-temperature").Change("1");     // sampling, so no early end-of-sequence loop decides the length
        page.Find("#pg-prompt").Input("Write a long story.");
        page.Find("#pg-send").Click();
        page.WaitForAssertion(() => Assert.Equal("generating", page.Find("[data-pane=checkpoint] .chat-state").TextContent), TimeSpan.FromSeconds(60));
        page.Find("#pg-stop").Click();
        page.WaitForAssertion(() =>
        {
            Assert.Equal("stopped", page.Find("[data-pane=base] .chat-state").TextContent);
            Assert.Equal("stopped", page.Find("[data-pane=checkpoint] .chat-state").TextContent);
        }, TimeSpan.FromSeconds(30));
        page.WaitForAssertion(() =>
        {
            Assert.False(page.Find("#pg-send").HasAttribute("disabled"));
            Assert.True(page.Find("#pg-stop").HasAttribute("disabled"));
        });
    }

    [Fact]
    public void Without_succeeded_jobs_the_send_button_waits_for_a_checkpoint()
    {
        using var ctx = new UiTestContext();
        var page = ctx.Render<PlaygroundPage>();
        page.WaitForAssertion(() => Assert.Contains("no succeeded job", page.Find("#pg-checkpoint").TextContent));
        page.Find("#pg-prompt").Input("hello");
        Assert.True(page.Find("#pg-send").HasAttribute("disabled"));
    }

    [Fact]
    public async Task The_model_cache_keeps_the_two_most_recently_used_models()
    {
        using var ctx = new UiTestContext();
        var demo = await ctx.Services.GetRequiredService<Catalog>().CreateBuiltinModelAsync("demo-tiny");
        CopyFolder(demo, Path.Combine(ctx.DataDir, "a"));
        CopyFolder(demo, Path.Combine(ctx.DataDir, "b"));
        var models = ctx.Services.GetRequiredService<PlaygroundModels>();
        var sources = new[] { new Sft.Training.Generation.InferenceSource(demo), new(demo, Path.Combine(ctx.DataDir, "a")), new(demo, Path.Combine(ctx.DataDir, "b")) };
        var options = new Sft.Training.Generation.GenerationOptions { MaxNewTokens = 3 };
        foreach (var source in sources)
        {
            var pieces = new List<string>();
            await models.GenerateAsync(source, "hi", options, null, p => { pieces.Add(p); return Task.CompletedTask; }, CancellationToken.None);
            Assert.NotEmpty(pieces);
        }
        Assert.Equal([sources[2], sources[1]], models.Cached);

        var missing = new Sft.Training.Generation.InferenceSource(Path.Combine(ctx.DataDir, "nope"));
        var error = await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            models.GenerateAsync(missing, "hi", options, null, _ => Task.CompletedTask, CancellationToken.None));
        Assert.Contains(Path.Combine(ctx.DataDir, "nope"), error.Message);
    }
}
