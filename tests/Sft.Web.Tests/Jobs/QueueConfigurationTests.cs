namespace Sft.Web.Tests.Jobs;

/// <summary>Bad queue settings stop the real executable at start with a message naming the setting and the fix.</summary>
public class QueueConfigurationTests : IDisposable
{
    readonly string _dataDir = Directory.CreateTempSubdirectory("sft-queue-config-").FullName;

    [Theory]
    [InlineData("Sft__Queue__Storage", "postgres", "Sft:Queue:ConnectionString is required when Sft:Queue:Storage is 'postgres'")]
    [InlineData("Sft__Queue__Devices__0", "gpu0", "Sft:Queue:Devices: 'gpu0' is not a device queue name; use 'cpu' or 'cudaN'")]
    [InlineData("Sft__Queue__QueuePollInterval", "00:00:00", "must be positive")]
    [InlineData("Auth__BootstrapApiKey", "secret", "Auth:BootstrapApiKey must start with 'sft_'")]
    public async Task The_server_refuses_to_start_and_says_which_setting_is_wrong(string variable, string value, string message)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServerProcess.StartAsync(_dataDir, new Dictionary<string, string> { [variable] = value }));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task A_second_server_on_the_same_data_folder_refuses_to_start_and_one_after_a_crash_starts()
    {
        await using (var first = await ServerProcess.StartAsync(_dataDir))
        {
            var second = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(_dataDir));
            Assert.Contains("Another SFT Studio server is using the data folder", second.Message);
            Assert.Contains("Sft:Queue:Storage=postgres", second.Message);
        }                                                  // killed (SIGKILL), as in a crash: the lock goes with it
        await using var restarted = await ServerProcess.StartAsync(_dataDir);
        using var http = new HttpClient { BaseAddress = restarted.BaseAddress };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }
}
