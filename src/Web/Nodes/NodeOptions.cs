namespace Sft.Web.Nodes;

/// <summary>This server as a node sharing the queue (section <c>Sft:Node</c>).</summary>
public sealed class NodeOptions
{
    public const string Section = "Sft:Node";

    /// <summary>The node's name in the nodes table and on each job it runs. Default: the machine name and the port
    /// of the first configured URL (or the process id when the port is chosen at start). Give each node a stable name.</summary>
    public string? Name { get; set; }

    /// <summary>How often the node writes its heartbeat.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a node may stay silent before it counts as offline and its running jobs may move to another node.</summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromSeconds(30);
}
