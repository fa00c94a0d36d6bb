namespace Sft.Web.Storage;

/// <summary>Where the server keeps its files and its database (section <c>Sft</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Sft";

    /// <summary>The data folder: jobs, checkpoints, uploads and the SQLite files. Relative paths are
    /// taken from the content root (the repository root in a checkout).</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>The name of the app database's connection string (<c>ConnectionStrings:Sft</c>); when it is
    /// not set the database is the SQLite file <c>sft.db</c> in the data folder.</summary>
    public const string ConnectionStringName = "Sft";
}
