using Microsoft.AspNetCore.Http.HttpResults;

namespace Sft.Web.Api;

/// <summary>RFC 7807 problem details for API errors, with the OpenAI-style <c>param</c> (the field at fault) and
/// <c>code</c>, and <c>errors</c> keyed by field as in validation problems.</summary>
public static class ApiProblems
{
    public static ProblemHttpResult Invalid(string param, string message, string code = "invalid_request") =>
        Problem(StatusCodes.Status400BadRequest, "Invalid request", message, param, code);

    public static ProblemHttpResult NotFound(string what, string id, string param = "id") =>
        Problem(StatusCodes.Status404NotFound, "Not found", $"No {what} '{id}'.", param, "not_found");

    public static ProblemHttpResult Problem(int status, string title, string detail, string? param, string code)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code, ["param"] = param };
        if (param != null) extensions["errors"] = new Dictionary<string, string[]> { [param] = [detail] };
        return TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
    }

    /// <summary>A <c>limit</c> query parameter: the default when absent, a problem when outside 1..max.</summary>
    public static bool TryLimit(int? limit, int defaultLimit, int max, out int value, out ProblemHttpResult? problem)
    {
        value = limit ?? defaultLimit;
        problem = value < 1 || value > max ? Invalid("limit", $"limit must be between 1 and {max} (got {value}).") : null;
        return problem == null;
    }
}
