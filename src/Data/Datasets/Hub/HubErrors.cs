using System.Net;

namespace Sft.Data.Datasets.Hub;

/// <summary>Turns a failed Hub answer into a <see cref="HubException"/> that says what to do, reading the
/// Hub's <c>X-Error-Code</c> (<c>RepoNotFound</c>, <c>RevisionNotFound</c>, <c>EntryNotFound</c>, <c>GatedRepo</c>).</summary>
internal static class HubErrors
{
    public static HubException From(HttpResponseMessage response, HubOptions options, string repoId, string revision, string? path)
    {
        var code = Header(response, "X-Error-Code");
        var serverMessage = Header(response, "X-Error-Message");
        int status = (int)response.StatusCode;
        var page = $"{options.Endpoint}/datasets/{repoId}";
        var tokenHint = options.Token is null
            ? $"set HF_TOKEN (or write the token to {options.TokenPath ?? "$HF_HOME/token"})"
            : "check that HF_TOKEN belongs to an account with access (the token sent was not accepted)";
        var detail = serverMessage is null ? "" : $" The Hub says: {serverMessage}";

        if (code == "GatedRepo" || (response.StatusCode == HttpStatusCode.Forbidden && code is null))
            return new HubException(HubErrorKind.Gated,
                $"dataset '{repoId}' is gated: accept its terms at {page} while logged in, then {tokenHint}.{detail}", status);
        if (code == "RevisionNotFound")
            return new HubException(HubErrorKind.NotFound,
                $"revision '{revision}' of dataset '{repoId}' was not found; check the branch, tag or commit (see {page}/tree/main).{detail}", status);
        if (code == "EntryNotFound" || (response.StatusCode == HttpStatusCode.NotFound && path is not null && code is null))
            return new HubException(HubErrorKind.NotFound,
                $"file '{path}' was not found in dataset '{repoId}' at revision '{revision}'; check the data_files names against the repository's files.{detail}", status);
        if (code == "RepoNotFound" || response.StatusCode == HttpStatusCode.NotFound)
            return new HubException(HubErrorKind.NotFound,
                $"dataset '{repoId}' was not found on {options.Endpoint}: check the id (org/name) and its spelling; if it is private, {tokenHint}.{detail}", status);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            return new HubException(HubErrorKind.Unauthorized,
                $"dataset '{repoId}' needs authentication: {tokenHint}. If it is gated, also accept its terms at {page}.{detail}", status);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
            return new HubException(HubErrorKind.Server, $"the Hub is rate-limiting requests for '{repoId}'; wait a minute and retry, or set HF_TOKEN for higher limits.{detail}", status);
        return new HubException(HubErrorKind.Server,
            $"the Hub answered {status} {response.ReasonPhrase} for dataset '{repoId}'{(path is null ? "" : $" file '{path}'")}.{detail}", status);
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? contentValues.FirstOrDefault()
        : null;
}
