namespace Sft.Web.Storage;

public enum DatabaseProvider { Sqlite, Postgres }

/// <summary>The app database (section <c>Sft:Database</c>); its connection string is <c>ConnectionStrings:Sft</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Sft:Database";

    /// <summary><c>sqlite</c> (the file <c>sft.db</c> in the data folder unless <c>ConnectionStrings:Sft</c> names
    /// another) or <c>postgres</c> (several nodes sharing one database; <c>ConnectionStrings:Sft</c> is required).</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;
}
