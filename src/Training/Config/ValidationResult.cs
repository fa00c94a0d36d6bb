using System.Text;
using Sft.Training.Config.Memory;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Config;

/// <summary>How bad a finding is. <see cref="Ignored"/>: a key that is accepted but has no effect here.</summary>
public enum IssueSeverity { Error, Warning, Ignored }

/// <summary>
/// One finding about a config: the key path (<c>optimizer.learning_rate</c>, <c>callbacks[1].keep_checkpoint_max</c>),
/// where it is (file or <c>--set</c> override, 1-based line and column), what is wrong and how to fix it.
/// </summary>
public sealed record ConfigIssue(IssueSeverity Severity, string Path, SourcePosition Position, string Message, string? Hint = null)
{
    public int Line => Position.Line;
    public int Column => Position.Column;

    public override string ToString()
    {
        var kind = Severity switch { IssueSeverity.Error => "error", IssueSeverity.Warning => "warning", _ => "ignored" };
        var where = string.IsNullOrEmpty(Path) ? "" : Path + ": ";
        var hint = Hint is null ? "" : $" Fix: {Hint}";
        return $"{Position}: {kind}: {where}{Message}{hint}";
    }
}

/// <summary>
/// Everything validation found, in file order: errors (the job must not run), warnings, keys accepted
/// but ignored, and the memory estimate when the model's dimensions are known.
/// </summary>
public sealed record ValidationResult(
    IReadOnlyList<ConfigIssue> Errors,
    IReadOnlyList<ConfigIssue> Warnings,
    IReadOnlyList<ConfigIssue> Ignored,
    MemoryEstimate? Memory)
{
    public bool IsValid => Errors.Count == 0;

    public static ValidationResult From(IEnumerable<ConfigIssue> issues, MemoryEstimate? memory)
    {
        var ordered = issues
            .OrderBy(i => i.Position.Source.StartsWith(ConfigOverrides.SourcePrefix, StringComparison.Ordinal) ? 1 : 0)
            .ThenBy(i => i.Position.Source, StringComparer.Ordinal)
            .ThenBy(i => i.Line).ThenBy(i => i.Column)
            .ToList();
        return new(
            ordered.Where(i => i.Severity == IssueSeverity.Error).ToList(),
            ordered.Where(i => i.Severity == IssueSeverity.Warning).ToList(),
            ordered.Where(i => i.Severity == IssueSeverity.Ignored).ToList(),
            memory);
    }

    /// <summary>A plain-text report: errors, warnings, ignored keys, then the memory estimate.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine(IsValid
            ? $"Config is valid ({Warnings.Count} warnings, {Ignored.Count} ignored keys)."
            : $"Config has {Errors.Count} error(s), {Warnings.Count} warning(s), {Ignored.Count} ignored key(s).");
        foreach (var issue in Errors.Concat(Warnings).Concat(Ignored)) text.AppendLine(issue.ToString());
        if (Memory is not null) text.Append(Memory.Format());
        return text.ToString();
    }
}
