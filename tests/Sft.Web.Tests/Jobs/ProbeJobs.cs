namespace Sft.Web.Tests.Jobs;

/// <summary>Trivial real Hangfire jobs for the queue smoke tests.</summary>
public static class ProbeJobs
{
    public static void Touch(string path) => File.WriteAllText(path, $"ran on thread {Environment.CurrentManagedThreadId}");

    public static void Fail(string message) => throw new InvalidOperationException(message);
}
