using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Sft.Data.Persistence;
using Sft.Web.Tests;

namespace Sft.Web.UiTests.EndToEnd;

/// <summary>
/// The real server executable on a loopback port, driven by Debian's chromium: sign in, validate the tiny demo
/// preset (and an error at its line), submit it, watch its loss chart grow until it succeeds, download a checkpoint,
/// chat with its last checkpoint and its base in the playground, open a job page drawn from stored history, compare, models
/// and datasets. Screenshots
/// of every page go to TestResults/screenshots (phone-sized ones too).
/// </summary>
public class DashboardEndToEndTests
{
    const string ApiKey = "sft_e2e-dashboard-key-0123456789abcdef0123";
    const string Chromium = "/usr/bin/chromium";
    static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    static string ScreenshotDir
    {
        get
        {
            var dir = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    [Fact]
    public async Task Sign_in_submit_the_demo_preset_watch_it_train_download_a_checkpoint_and_browse_every_page()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install -y chromium (.ci/run does this).");
        var dataDir = Directory.CreateTempSubdirectory("sft-e2e-").FullName;
        await using var server = await ServerProcess.StartAsync(dataDir, new Dictionary<string, string> { ["Auth__BootstrapApiKey"] = ApiKey });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ChromiumArgs });
        var context = await browser.NewContextAsync(new() { BaseURL = server.BaseAddress.ToString(), ViewportSize = new() { Width = 1366, Height = 900 } });
        var page = await context.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") consoleErrors.Add(m.Text); };
        try { await RunAsync(page, dataDir, consoleErrors); }
        catch (Exception e)
        {
            await Shot(page, "failure");
            throw new Xunit.Sdk.XunitException($"{e.Message}\nBrowser errors:\n{string.Join('\n', consoleErrors)}\nServer output:\n" +
                string.Join('\n', server.Output.TakeLast(60)));
        }
    }

    static async Task RunAsync(IPage page, string dataDir, List<string> consoleErrors)
    {

        // Sign in with the API key.
        await page.GotoAsync("/");
        Assert.Contains("/login", page.Url);
        await Shot(page, "01-login");
        await page.FillAsync("input[name=api_key]", ApiKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync("h1:text('Jobs')");
        await Shot(page, "02-jobs-empty");

        // The new-job page: the tiny demo preset validates.
        // Straight to the address the nav link names: a click while the circuit is still starting can be lost under load.
        Assert.Equal("/jobs/new", await page.GetAttributeAsync("nav a:text('New job')", "href"));
        await page.GotoAsync("/jobs/new");
        await page.WaitForSelectorAsync(".validation[data-valid=true]", new() { Timeout = 60_000 });
        Assert.Contains("max_steps", await page.InputValueAsync(".yaml-editor textarea"));
        await Shot(page, "03-new-job-valid");

        // Typing a bad value shows the error at its line.
        var yaml = await page.InputValueAsync(".yaml-editor textarea");
        var badLine = Array.FindIndex(yaml.Split('\n'), l => l.TrimStart().StartsWith("learning_rate:", StringComparison.Ordinal)) + 1;
        await page.FillAsync(".yaml-editor textarea", yaml.Replace("learning_rate: 1.e-3", "learning_rate: fast"));
        await page.WaitForSelectorAsync($".validation[data-valid=false] li.issue.error[data-line='{badLine}']");
        await Shot(page, "04-new-job-error");

        // Submit the demo preset (shortened to 12 steps, a checkpoint every 6) and watch it train.
        var shortYaml = yaml.Replace("max_steps: 60", "max_steps: 12").Replace("save_checkpoint_steps: 30", "save_checkpoint_steps: 6");
        Assert.NotEqual(yaml, shortYaml);
        await page.FillAsync(".yaml-editor textarea", shortYaml);
        await page.WaitForSelectorAsync(".validation[data-valid=true]", new() { Timeout = 30_000 });
        await page.ClickAsync("button[data-action=submit]");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/jobs/ftjob-"), new() { Timeout = 30_000 });
        var submitted = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await page.WaitForFunctionAsync("() => (document.getElementById('chart-loss-0')?.data?.[0]?.x?.length ?? 0) > 0", null, new() { Timeout = 90_000 });
        var firstCount = await page.EvaluateAsync<int>("() => document.getElementById('chart-loss-0').data[0].x.length");
        await Shot(page, "05-submitted-running");
        await page.WaitForFunctionAsync($"() => document.getElementById('chart-loss-0').data[0].x.length > {firstCount}", null, new() { Timeout = 90_000 });
        await page.WaitForSelectorAsync(".head-actions .badge.status-succeeded", new() { Timeout = 120_000 });
        Assert.Equal(12, await page.EvaluateAsync<int>("() => document.getElementById('chart-loss-0').data[0].x.length"));
        await Shot(page, "06-submitted-succeeded");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("table.checkpoints a[download]"));
        var zip = Path.Combine(dataDir, "download.zip");
        await download.SaveAsAsync(zip);
        var head = new byte[2];
        await using (var file = File.OpenRead(zip)) Assert.Equal(2, await file.ReadAsync(head));
        Assert.True(new FileInfo(zip).Length > 1000, $"the checkpoint download is {new FileInfo(zip).Length} bytes");
        Assert.Equal("PK"u8.ToArray(), head);

        // The playground: the job's last checkpoint and its base answer one prompt side by side.
        await page.ClickAsync("a[data-action=playground]");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/playground\\?job="), new() { Timeout = 30_000 });
        await page.WaitForSelectorAsync($"#pg-checkpoint option[value='{submitted}/12']", new() { State = WaitForSelectorState.Attached });
        Assert.Equal($"{submitted}/12", await page.InputValueAsync("#pg-checkpoint"));
        Assert.Equal("builtin:demo-tiny", await page.InputValueAsync("#pg-base"));
        // Typing counts once the circuit is connected: type until the send button takes it.
        for (var attempt = 0; attempt < 40 && !await page.IsEnabledAsync("#pg-send"); attempt++)
        {
            await page.FillAsync("#pg-prompt", "Give me three tips for staying healthy.");
            await page.WaitForTimeoutAsync(250);
        }
        await page.FillAsync("#pg-max", "24");
        await page.ClickAsync("#pg-send");
        await page.WaitForSelectorAsync("[data-pane=base] .chat-state[data-state=done]", new() { Timeout = 60_000 });
        await page.WaitForSelectorAsync("[data-pane=checkpoint] .chat-state[data-state=done]", new() { Timeout = 60_000 });
        Assert.NotEmpty((await page.InnerTextAsync("[data-pane=base] [data-reply]")).Trim());
        Assert.NotEmpty((await page.InnerTextAsync("[data-pane=checkpoint] [data-reply]")).Trim());
        await Shot(page, "06b-playground");

        // A job with stored history: its charts draw every point.
        var jobId = await SeedJobAsync(dataDir);
        await page.GotoAsync($"/jobs/{jobId}");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss-0')?.data?.[0]?.x?.length === 40", null, new() { Timeout = 30_000 });
        var evalPoints = await page.EvaluateAsync<int>("() => document.getElementById('chart-loss-0').data[2].x.length");
        Assert.Equal(2, evalPoints);
        await page.ClickAsync("label.check input");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss-0')._fullLayout.yaxis.type === 'log'");
        await Shot(page, "07-job-detail-history");

        // Compare the submitted job with the seeded one; the models and datasets pages.
        await page.GotoAsync($"/compare?jobs={submitted},{jobId}");
        await page.WaitForFunctionAsync("() => document.querySelector('.chart-card [id^=compare]')?.data?.length === 2", null, new() { Timeout = 30_000 });
        await Shot(page, "08-compare");
        await page.GotoAsync("/models");
        await page.WaitForSelectorAsync("tr[data-model='builtin:demo-tiny'][data-exists=true]");
        await Shot(page, "09-models");
        await page.GotoAsync("/datasets");
        await page.WaitForSelectorAsync("[data-chart^=hist] .main-svg", new() { Timeout = 60_000 });
        await Shot(page, "10-datasets");

        await page.GotoAsync("/");
        await page.WaitForSelectorAsync($"tr[data-job-id='{jobId}']");
        await Shot(page, "11-jobs");
        await page.SetViewportSizeAsync(390, 844);
        await Shot(page, "12-jobs-phone");
        await page.GotoAsync($"/jobs/{jobId}");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss-0')?.data?.[0]?.x?.length === 40");
        await Shot(page, "13-job-detail-phone");

        Assert.Empty(consoleErrors);
    }

    /// <summary>A finished job row with 40 steps of loss, lr and grad norm and two eval points, written to the server's database.</summary>
    static async Task<string> SeedJobAsync(string dataDir)
    {
        const string id = "ftjob-e2ehistory";
        var options = new DbContextOptionsBuilder<SftDbContext>().UseSqlite($"Data Source={Path.Combine(dataDir, "sft.db")};Pooling=False").Options;
        await using var db = new SftDbContext(options);
        var now = DateTimeOffset.UtcNow;
        db.Jobs.Add(new JobEntity
        {
            Id = id, Name = "history demo", Status = JobStatus.Succeeded, ConfigYaml = "seed: 1\n", CreatedAt = now, Attempts = 1,
            CurrentStep = 40, TotalSteps = 40, TrainedTokens = 40960, LastLoss = 0.6, Device = "cpu",
        });
        void Point(long step, string name, double value) =>
            db.MetricPoints.Add(new MetricPointEntity { JobId = id, Step = step, Name = name, Value = value, Time = now });
        for (var step = 1; step <= 40; step++)
        {
            Point(step, "loss", 4.0 * Math.Exp(-step / 20.0) + 0.1 * Math.Sin(step));
            Point(step, "learning_rate", 1e-3 * (1 - step / 40.0) + 1e-5);
            Point(step, "grad_norm", 2.0 / Math.Sqrt(step));
            if (step % 20 == 0) Point(step, "eval_loss", 4.0 * Math.Exp(-step / 22.0));
        }
        await db.SaveChangesAsync();
        return id;
    }

    static Task Shot(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = true });
}
