namespace Sft.Web.Cli;

/// <summary>
/// The options of one CLI command: <c>--name value</c>, repeatable (<c>--set a=1 --set b=2</c>),
/// and bare flags (<c>--quiet</c>). Unknown options are errors that name the option and list the known ones.
/// </summary>
public sealed class CliArgs
{
    readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    CliArgs() { }

    /// <param name="valued">options that take a value</param>
    /// <param name="flags">options that take none</param>
    public static CliArgs Parse(string command, string[] args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string>? flags = null)
    {
        flags ??= [];
        var parsed = new CliArgs();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new CliUsageException($"{command}: unexpected argument '{arg}'. Options: {Known(valued, flags)}");
            var name = arg[2..];
            string? inline = null;
            var eq = name.IndexOf('=');
            if (eq >= 0 && valued.Contains(name[..eq])) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (flags.Contains(name)) { parsed._flags.Add(name); continue; }
            if (!valued.Contains(name))
                throw new CliUsageException($"{command}: unknown option '--{name}'. Options: {Known(valued, flags)}");
            var value = inline ?? (i + 1 < args.Length ? args[++i] : throw new CliUsageException($"{command}: option '--{name}' needs a value."));
            if (!parsed._values.TryGetValue(name, out var list)) parsed._values[name] = list = [];
            list.Add(value);
        }
        return parsed;
    }

    static string Known(IReadOnlyCollection<string> valued, IReadOnlyCollection<string> flags) =>
        string.Join(", ", valued.Select(v => $"--{v} VALUE").Concat(flags.Select(f => $"--{f}")));

    public bool Has(string name) => _flags.Contains(name) || _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;

    public string Require(string command, string name) =>
        Get(name) ?? throw new CliUsageException($"{command}: missing required option '--{name}'.");

    public IReadOnlyList<string> GetAll(string name) => _values.TryGetValue(name, out var list) ? list : [];
}

/// <summary>A usage error: printed as one line to stderr, exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
