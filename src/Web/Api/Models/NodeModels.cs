using System.Text.Json.Serialization;
using Sft.Web.Nodes;

namespace Sft.Web.Api.Models;

/// <summary>A server node sharing the queue: online or not, and each device with the job it runs now.</summary>
public sealed record NodeDto(string Name, string? Url, bool Online, long StartedAt, long LastSeenAt, IReadOnlyList<NodeDeviceDto> Devices)
{
    [JsonPropertyOrder(-1)]
    public string Object => "node";

    public static NodeDto From(NodeView node) => new(node.Name, node.Url, node.Online, node.StartedAt.ToUnixTimeSeconds(),
        node.LastSeenAt.ToUnixTimeSeconds(), node.Devices.Select(d => new NodeDeviceDto(d.Name, d.JobId, d.JobName)).ToList());
}

/// <summary>A device queue of a node (<c>cpu</c>, <c>cuda0</c>, ...) and the job running on it (null when free).</summary>
public sealed record NodeDeviceDto(string Name, string? JobId, string? JobName);
