namespace Sft.Web.Jobs;

public enum QueueStorageKind { Sqlite, Postgres }

/// <summary>The job queue (section <c>Sft:Queue</c>).</summary>
public sealed class QueueOptions
{
    public const string Section = "Sft:Queue";

    /// <summary><c>sqlite</c> (a separate file <c>hangfire.db</c> in the data folder; one server process only) or
    /// <c>postgres</c> (several nodes sharing one queue; needs <see cref="ConnectionString"/>).</summary>
    public QueueStorageKind Storage { get; set; } = QueueStorageKind.Sqlite;

    /// <summary>PostgreSQL: the connection string. SQLite: an optional path of the Hangfire database file.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long after pickup a job whose server died is handed out again. Short, so a crashed job
    /// resumes quickly; safe because each device queue has exactly one worker.</summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often an idle worker looks for work (Hangfire's default of 15 s makes submit feel slow).</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long shutdown waits for a running job to stop and write its checkpoint.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>The device queues to serve (<c>cpu</c>, <c>cuda0</c>, ...); detected with TorchSharp when not set.</summary>
    public string[]? Devices { get; set; }
}
