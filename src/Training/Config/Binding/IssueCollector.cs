using Sft.Training.Config.Yaml;

namespace Sft.Training.Config.Binding;

/// <summary>Collects every finding of one validation run (all errors, not just the first).</summary>
public sealed class IssueCollector
{
    readonly List<ConfigIssue> _issues = [];

    public IReadOnlyList<ConfigIssue> Issues => _issues;

    public bool HasErrors => _issues.Any(i => i.Severity == IssueSeverity.Error);

    public void Add(ConfigIssue issue) => _issues.Add(issue);

    public void AddRange(IEnumerable<ConfigIssue> issues) => _issues.AddRange(issues);

    public void Error(string path, SourcePosition at, string message, string? hint = null) =>
        _issues.Add(new(IssueSeverity.Error, path, at, message, hint));

    public void Warning(string path, SourcePosition at, string message, string? hint = null) =>
        _issues.Add(new(IssueSeverity.Warning, path, at, message, hint));

    public void Ignored(string path, SourcePosition at, string reason) =>
        _issues.Add(new(IssueSeverity.Ignored, path, at, reason));
}
