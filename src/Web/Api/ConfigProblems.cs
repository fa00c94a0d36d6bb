using Microsoft.AspNetCore.Http.HttpResults;
using Sft.Training.Config;
using Sft.Web.Api.Models;

namespace Sft.Web.Api;

/// <summary>A refused config as problem details: every error with its key path, line and column, and the first one as
/// <c>param</c> and <c>detail</c>.</summary>
public static class ConfigProblems
{
    public static ProblemHttpResult Invalid(ValidationResult validation)
    {
        var first = validation.Errors[0];
        var detail = validation.Errors.Count == 1 ? first.ToString() : $"{validation.Errors.Count} errors; the first: {first}";
        var extensions = new Dictionary<string, object?>
        {
            ["code"] = "invalid_config",
            ["param"] = first.Path,
            ["errors"] = validation.Errors.GroupBy(e => e.Path).ToDictionary(g => g.Key, g => g.Select(e => e.ToString()).ToArray()),
            ["validation"] = ValidationDto.From(validation),
        };
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid config", extensions: extensions);
    }
}
