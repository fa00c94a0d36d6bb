using Sft.Training.Config;
using Sft.Training.Config.Memory;

namespace Sft.Web.Api.Models;

/// <summary>The body of <c>POST /api/v1/jobs</c> as JSON, and of <c>POST /api/v1/configs/validate</c>.</summary>
public sealed record CreateJobRequest(string? ConfigYaml, string? Name = null, IReadOnlyList<string>? Overrides = null);

/// <summary>The optional body of <c>POST /api/v1/jobs/{id}/clone</c>: an edited config and a new name.</summary>
public sealed record CloneJobRequest(string? ConfigYaml = null, string? Name = null);

/// <summary>One finding about a config: the key path, where it is (source, 1-based line and column), what and how to fix.</summary>
public sealed record ConfigIssueDto(string Path, string Source, int Line, int Column, string Message, string? Hint)
{
    public static ConfigIssueDto From(ConfigIssue i) => new(i.Path, i.Position.Source, i.Line, i.Column, i.Message, i.Hint);
}

/// <summary>What validation found: errors (the job cannot run), warnings, keys accepted but ignored, the memory estimate.</summary>
public sealed record ValidationDto(
    bool Valid, IReadOnlyList<ConfigIssueDto> Errors, IReadOnlyList<ConfigIssueDto> Warnings, IReadOnlyList<ConfigIssueDto> Ignored,
    MemoryEstimateDto? Memory)
{
    public static ValidationDto From(ValidationResult v) => new(v.IsValid,
        v.Errors.Select(ConfigIssueDto.From).ToList(), v.Warnings.Select(ConfigIssueDto.From).ToList(),
        v.Ignored.Select(ConfigIssueDto.From).ToList(), v.Memory is { } m ? MemoryEstimateDto.From(m) : null);
}

public sealed record MemoryEstimateDto(long TotalParameters, long TrainableParameters, long TotalBytes, string Setup,
    IReadOnlyDictionary<string, long> Components)
{
    public static MemoryEstimateDto From(MemoryEstimate m) => new(m.TotalParameters, m.TrainableParameters, m.TotalBytes, m.Setup,
        m.Components.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.Sum(c => c.Bytes)));
}
