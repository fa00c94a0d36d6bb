namespace Sft.Web.Nodes;

/// <summary>The device queues of every online node (this one included), refreshed with each heartbeat: a job may be
/// submitted on any node for a device that some node serves, and that node's worker takes it.</summary>
public sealed class ClusterDevices
{
    volatile IReadOnlySet<string> _online = new HashSet<string>(StringComparer.Ordinal);

    public IReadOnlySet<string> Online => _online;

    public bool Contains(string queue) => _online.Contains(queue);

    public void Update(IEnumerable<string> queues) => _online = new HashSet<string>(queues, StringComparer.Ordinal);
}
