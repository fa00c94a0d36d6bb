using Microsoft.AspNetCore.Diagnostics;

namespace Sft.Web.Api;

/// <summary>
/// Turns request-reading failures (malformed JSON, a query value of the wrong type, a body over the size limit)
/// into problem details that keep the reason, instead of a bare 400/413.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not BadHttpRequestException bad) return false;
        var detail = bad.InnerException is System.Text.Json.JsonException json ? $"{bad.Message} {json.Message}" : bad.Message;
        http.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request too large" : "Invalid request",
                Detail = detail,
                Extensions = { ["code"] = bad.StatusCode == 413 ? "request_too_large" : "invalid_request" },
            },
        });
    }
}
