using Microsoft.Extensions.Options;

namespace Sft.Web.Nodes;

public static class NodeExtensions
{
    /// <summary>This server's node name, its heartbeat in the nodes table and the registry (list, job claims).
    /// Add after the storage (its table is migrated first) and before the queue (registered before any job runs).</summary>
    public static IServiceCollection AddSftNodes(this IServiceCollection services)
    {
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.Section)
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.OfflineAfter > o.HeartbeatInterval,
                "Sft:Node: HeartbeatInterval must be positive and OfflineAfter longer than it (e.g. 00:00:10 and 00:00:30).")
            .ValidateOnStart();
        services.AddSingleton(sp => NodeIdentity.Resolve(
            sp.GetRequiredService<IOptions<NodeOptions>>().Value.Name, sp.GetRequiredService<IConfiguration>()["urls"]));
        services.AddSingleton<NodeRegistry>();
        services.AddSingleton<ClusterDevices>();
        services.AddSingleton<JobFence>();
        services.AddHostedService<NodeHeartbeat>();
        return services;
    }
}
