using Sft.Web.Live;

namespace Sft.Web.Hubs;

public static class HubExtensions
{
    /// <summary>SignalR (snake_case JSON, like the REST API) and the broadcaster that feeds the job groups.</summary>
    public static IServiceCollection AddSftHubs(this IServiceCollection services)
    {
        services.AddSignalR().AddJsonProtocol(o => EventJson.Configure(o.PayloadSerializerOptions));
        services.AddHostedService<JobsHubBroadcaster>();
        return services;
    }

    public static IEndpointConventionBuilder MapSftHubs(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHub<JobsHub>(JobsHub.Path).RequireAuthorization();
}
