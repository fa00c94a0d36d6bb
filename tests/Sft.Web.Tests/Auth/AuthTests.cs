using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Sft.Web.Auth;

namespace Sft.Web.Tests.Auth;

[Collection(AppCollection.Name)]
public partial class AuthTests(TestApp app)
{
    [Fact]
    public async Task Health_answers_without_a_key_and_nothing_else_does()
    {
        using var anonymous = app.Client(key: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        foreach (var path in new[] { "/api/v1/jobs", "/api/v1/api-keys", "/openapi/v1.json", "/api/docs/", "/api/v1/no-such-endpoint", "/hubs/jobs/negotiate?negotiateVersion=1" })
        {
            var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode is HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
        foreach (var page in new[] { "/hangfire", "/", "/no-such-page" })
        {
            var response = await anonymous.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);       // browser pages: to the login form
            Assert.Equal("/login?ReturnUrl=" + Uri.EscapeDataString(page), response.Headers.Location!.PathAndQuery);
        }
    }

    [Fact]
    public async Task Missing_bad_and_malformed_keys_get_401_problems_that_say_what_to_send()
    {
        using var anonymous = app.Client(key: null);
        var missing = await ProblemOf(await anonymous.GetAsync("/api/v1/jobs"), HttpStatusCode.Unauthorized);
        Assert.Contains("Authorization: Bearer sft_", missing.GetProperty("detail").GetString());

        using var wrong = app.Client("sft_this-key-was-never-issued-by-the-server");
        var bad = await ProblemOf(await wrong.GetAsync("/api/v1/jobs"), HttpStatusCode.Unauthorized);
        Assert.Contains("not valid", bad.GetProperty("detail").GetString());

        using var basic = app.Client(key: null);
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz");
        var malformed = await ProblemOf(await basic.GetAsync("/api/v1/jobs"), HttpStatusCode.Unauthorized);
        Assert.Contains("must be 'Bearer sft_...'", malformed.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Bootstrap_key_is_an_admin_and_is_stored_only_as_its_hash()
    {
        using var admin = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/hangfire")).StatusCode);
        var openApi = await admin.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/v1/jobs/{id}/checkpoints/{step}/download", out _));
        Assert.Equal("bearer", openApi.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        var docs = await admin.GetAsync("/api/docs/");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Contains("\"url\":\"openapi/v1.json\"", await docs.Content.ReadAsStringAsync());   // resolved against the app base

        await using var db = app.Db();
        var stored = await db.ApiKeys.SingleAsync(k => k.Name == "bootstrap");
        Assert.True(stored.IsAdmin);
        Assert.Equal(ApiKeys.Hash(TestApp.AdminKey), stored.Hash);
        Assert.Equal(64, stored.Hash.Length);
        Assert.Equal(TestApp.AdminKey[..ApiKeys.PrefixLength], stored.Prefix);
        Assert.DoesNotContain(db.ApiKeys.AsEnumerable(), k => k.Hash.Contains(TestApp.AdminKey) || k.Prefix == TestApp.AdminKey);
        // The secret part of the key appears nowhere in the database file.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var bytes = await ReadSharedAsync(Path.Combine(app.DataDir, "sft.db"));
        var wal = File.Exists(Path.Combine(app.DataDir, "sft.db-wal")) ? await ReadSharedAsync(Path.Combine(app.DataDir, "sft.db-wal")) : [];
        var secret = Encoding.UTF8.GetBytes(TestApp.AdminKey[ApiKeys.PrefixLength..]);
        Assert.Equal(-1, bytes.AsSpan().IndexOf(secret));
        Assert.Equal(-1, wal.AsSpan().IndexOf(secret));
    }

    [Fact]
    public async Task The_hub_refuses_connections_without_a_valid_key()
    {
        await using var hub = app.Hub("sft_this-key-was-never-issued-by-the-server");
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => hub.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Admins_issue_keys_that_work_and_stop_working_when_revoked()
    {
        using var admin = app.Client();
        var created = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "ci runner" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("api_key", body.GetProperty("object").GetString());
        var key = body.GetProperty("key").GetString()!;
        var id = body.GetProperty("id").GetInt64();
        Assert.Null(ApiKeys.CheckFormat(key));
        Assert.False(body.GetProperty("is_admin").GetBoolean());

        using var ci = app.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await ci.GetAsync("/api/v1/jobs")).StatusCode);
        await ProblemOf(await ci.GetAsync("/api/v1/api-keys"), HttpStatusCode.Forbidden);     // not an admin
        Assert.Equal(HttpStatusCode.Forbidden, (await ci.GetAsync("/hangfire")).StatusCode);

        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/v1/api-keys");
        var entry = listed.GetProperty("data").EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == id);
        Assert.False(entry.TryGetProperty("key", out _));
        Assert.Equal(key[..ApiKeys.PrefixLength], entry.GetProperty("prefix").GetString());

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/v1/api-keys/{id}")).StatusCode);
        await ProblemOf(await ci.GetAsync("/api/v1/jobs"), HttpStatusCode.Unauthorized);

        var second = await (await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "second admin", is_admin = true })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(second.GetProperty("is_admin").GetBoolean());
        using (var secondAdmin = app.Client(second.GetProperty("key").GetString()))
            Assert.Equal(HttpStatusCode.OK, (await secondAdmin.GetAsync("/api/v1/api-keys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/v1/api-keys/{second.GetProperty("id").GetInt64()}")).StatusCode);
        await ProblemOf(await admin.DeleteAsync("/api/v1/api-keys/999999"), HttpStatusCode.NotFound);
        var nameless = await ProblemOf(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = " " }), HttpStatusCode.BadRequest);
        Assert.Equal("name", nameless.GetProperty("param").GetString());
    }

    [Fact]
    public async Task The_last_admin_key_cannot_be_revoked()
    {
        using var admin = app.Client();
        await using var db = app.Db();
        var bootstrap = await db.ApiKeys.SingleAsync(k => k.Name == "bootstrap");
        Assert.Equal(1, await db.ApiKeys.CountAsync(k => k.IsAdmin && k.RevokedAt == null));    // other tests revoke what they add
        var problem = await ProblemOf(await admin.DeleteAsync($"/api/v1/api-keys/{bootstrap.Id}"), HttpStatusCode.Conflict);
        Assert.Equal("last_admin_key", problem.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task Cookie_login_with_an_api_key_opens_the_api_and_the_dashboard_until_logout()
    {
        using var browser = app.Client(key: null);
        var token = await FormTokenAsync(browser, "/login?ReturnUrl=%2Fhangfire");
        var login = await browser.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["api_key"] = TestApp.AdminKey, ["return_url"] = "/hangfire",
        }));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/hangfire", login.Headers.Location!.OriginalString);
        Assert.Contains(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("sft_auth=") && c.Contains("httponly"));

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/hangfire")).StatusCode);

        var signedIn = await browser.GetStringAsync("/login");
        Assert.Contains("Signed in as <b>bootstrap</b> (admin)", signedIn);
        var logoutToken = TokenIn(signedIn);
        var logout = await browser.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = logoutToken }));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task Cookie_login_with_the_configured_user_and_refusals()
    {
        using var browser = app.Client(key: null);
        var token = await FormTokenAsync(browser, "/login");
        var wrong = await browser.PostAsync("/login", Form(token, ("username", TestApp.Username), ("password", "nope")));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("Wrong name or password.", await wrong.Content.ReadAsStringAsync());

        var badKey = await browser.PostAsync("/login", Form(token, ("api_key", "sft_not-a-key-of-this-server-at-all")));
        Assert.Contains("not valid", await badKey.Content.ReadAsStringAsync());

        var noToken = await browser.PostAsync("/login", new FormUrlEncodedContent([new("api_key", TestApp.AdminKey)]));
        var stale = await ProblemOf(noToken, HttpStatusCode.BadRequest);
        Assert.Contains("antiforgery", stale.GetProperty("detail").GetString());

        var offsite = await browser.PostAsync("/login", Form(token, ("username", TestApp.Username), ("password", TestApp.Password), ("return_url", "//evil.example/")));
        Assert.Equal(HttpStatusCode.Redirect, offsite.StatusCode);
        Assert.Equal("/", offsite.Headers.Location!.OriginalString);          // never to another site
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/api-keys")).StatusCode);
    }

    static FormUrlEncodedContent Form(string token, params (string Name, string Value)[] fields) =>
        new([new("__RequestVerificationToken", token), .. fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]);

    static async Task<string> FormTokenAsync(HttpClient browser, string path)
    {
        var page = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return TokenIn(await page.Content.ReadAsStringAsync());
    }

    static string TokenIn(string html) => System.Net.WebUtility.HtmlDecode(TokenField().Match(html).Groups[1].Value);

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    public static async Task<JsonElement> ProblemOf(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }

    static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
