using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sft.Data.Persistence;
using Sft.Web.Nodes;

namespace Sft.Web.UiTests.Components;

/// <summary>The Nodes page over real node rows: online and offline nodes, each device free or with its job linked.</summary>
public class NodesPageTests
{
    [Fact]
    public async Task Nodes_page_lists_nodes_their_devices_and_the_job_each_device_runs()
    {
        using var ctx = new UiTestContext();                         // this server is node-a
        var registry = ctx.Services.GetRequiredService<NodeRegistry>();
        await registry.BeatAsync("http://127.0.0.1:5080");
        await using (var db = ctx.Db())
        {
            db.Nodes.Add(new NodeEntity { Name = "node-b", Devices = "cpu,cuda0", StartedAt = DateTimeOffset.UtcNow.AddHours(-1), LastSeenAt = DateTimeOffset.UtcNow.AddMinutes(-5) });
            await db.SaveChangesAsync();
        }
        await ctx.AddJobAsync("ftjob-running", JobStatus.Queued);
        Assert.True(await registry.TryClaimAsync("ftjob-running"));

        var page = ctx.Render<Sft.Web.Components.Pages.Nodes.Nodes>();

        var a = page.Find("tr[data-node='node-a']");
        Assert.Equal("true", a.GetAttribute("data-online"));
        Assert.Contains("(this server)", a.TextContent);
        Assert.Equal("/jobs/ftjob-running", a.QuerySelector("[data-device='cpu'] a")!.GetAttribute("href"));
        var b = page.Find("tr[data-node='node-b']");
        Assert.Equal("false", b.GetAttribute("data-online"));
        Assert.Equal(["cpu", "cuda0"], b.QuerySelectorAll("[data-device]").Select(d => d.GetAttribute("data-device")));
        Assert.All(b.QuerySelectorAll("[data-device]"), d => Assert.Contains("free", d.TextContent));
        Assert.Equal(["node-a", "node-b"], page.FindAll("tr[data-node]").Select(r => r.GetAttribute("data-node")));
    }
}
