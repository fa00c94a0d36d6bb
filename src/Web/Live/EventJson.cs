using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sft.Web.Live;

/// <summary>The JSON settings of everything the server writes: snake_case names, NaN/Infinity allowed
/// (a diverging loss is data, not a serializer crash).</summary>
public static class EventJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return options;
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
