using System.Text.Json.Serialization;
namespace Sft.Web.Api.Models;

/// <summary>The list envelope of every collection endpoint: <c>{"object":"list","data":[...],"has_more":...}</c>.</summary>
public sealed record ListDto<T>(IReadOnlyList<T> Data, bool HasMore)
{
    [JsonPropertyOrder(-1)]
    public string Object => "list";
}
