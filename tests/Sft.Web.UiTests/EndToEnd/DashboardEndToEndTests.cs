using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Sft.Data.Persistence;
using Sft.Web.Tests;

namespace Sft.Web.UiTests.EndToEnd;

/// <summary>
/// The real server executable on a loopback port, driven by Debian's chromium: sign in, open the new-job page from
/// the tiny demo preset, see it validate, open a job page whose charts draw from the stored history. Screenshots
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
    public async Task Sign_in_validate_the_demo_preset_and_see_a_jobs_charts()
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
        await page.ClickAsync("a:text('New job')");
        await page.WaitForSelectorAsync(".validation[data-valid=true]", new() { Timeout = 60_000 });
        Assert.Contains("max_steps", await page.InputValueAsync(".yaml-editor textarea"));
        await Shot(page, "03-new-job-valid");

        // Typing a bad value shows the error at its line.
        var yaml = await page.InputValueAsync(".yaml-editor textarea");
        var badLine = Array.FindIndex(yaml.Split('\n'), l => l.TrimStart().StartsWith("learning_rate:", StringComparison.Ordinal)) + 1;
        await page.FillAsync(".yaml-editor textarea", yaml.Replace("learning_rate: 1.e-3", "learning_rate: fast"));
        await page.WaitForSelectorAsync($".validation[data-valid=false] li.issue.error[data-line='{badLine}']");
        await Shot(page, "04-new-job-error");

        // A job with stored history: its charts draw every point.
        var jobId = await SeedJobAsync(dataDir);
        await page.GotoAsync($"/jobs/{jobId}");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss-0')?.data?.[0]?.x?.length === 40", null, new() { Timeout = 30_000 });
        var evalPoints = await page.EvaluateAsync<int>("() => document.getElementById('chart-loss-0').data[2].x.length");
        Assert.Equal(2, evalPoints);
        await page.ClickAsync("label.check input");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss-0')._fullLayout.yaxis.type === 'log'");
        await Shot(page, "05-job-detail");

        await page.GotoAsync("/");
        await page.WaitForSelectorAsync($"tr[data-job-id='{jobId}']");
        await Shot(page, "06-jobs");
        await page.SetViewportSizeAsync(390, 844);
        await Shot(page, "07-jobs-phone");
        await page.GotoAsync($"/jobs/{jobId}");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss-0')?.data?.[0]?.x?.length === 40");
        await Shot(page, "08-job-detail-phone");

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
