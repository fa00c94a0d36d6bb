using Microsoft.AspNetCore.Http.HttpResults;
using Sft.Web.Api.Models;
using Sft.Web.Nodes;

namespace Sft.Web.Api;

/// <summary>The server nodes sharing the job queue.</summary>
public static class NodesApi
{
    public static IEndpointRouteBuilder MapNodesApi(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/api/v1/nodes").WithTags("Nodes");
        nodes.MapGet("/", ListNodes).WithName(nameof(ListNodes))
            .WithSummary("Nodes, online first: devices, the job each device runs, last heartbeat.");
        return app;
    }

    public static async Task<Ok<ListDto<NodeDto>>> ListNodes(NodeRegistry registry, CancellationToken ct) =>
        TypedResults.Ok(new ListDto<NodeDto>((await registry.ListAsync(ct)).Select(NodeDto.From).ToList(), false));
}
