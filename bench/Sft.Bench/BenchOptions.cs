namespace Sft.Bench;

/// <summary>A command-line option that is missing, unknown or malformed; the message names it and the fix.</summary>
public sealed class BenchOptionException(string message) : Exception(message);

/// <summary>
/// <c>--name value</c> pairs over a table of defaults: an option not in the table is refused (so typos
/// fail loudly), every value is typed on read, and the error names the option and what it accepts.
/// </summary>
public sealed class BenchOptions
{
    readonly Dictionary<string, string> _values;

    BenchOptions(Dictionary<string, string> values) => _values = values;

    public static BenchOptions Parse(string[] args, IReadOnlyDictionary<string, string> defaults)
    {
        var values = new Dictionary<string, string>(defaults);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new BenchOptionException($"expected an option like --steps, got '{args[i]}'.");
            var name = args[i][2..];
            if (!defaults.ContainsKey(name))
                throw new BenchOptionException($"unknown option --{name}; known: {string.Join(", ", defaults.Keys.Select(k => "--" + k))}.");
            if (i + 1 >= args.Length) throw new BenchOptionException($"--{name} needs a value.");
            values[name] = args[i + 1];
        }
        return new BenchOptions(values);
    }

    public string String(string name) => _values[name];

    public string Choice(string name, params string[] allowed) => allowed.Contains(_values[name])
        ? _values[name]
        : throw new BenchOptionException($"--{name} is '{_values[name]}'; use one of {string.Join(", ", allowed)}.");

    public int Int(string name, int min)
    {
        if (!int.TryParse(_values[name], out var v) || v < min)
            throw new BenchOptionException($"--{name} must be an integer >= {min}, got '{_values[name]}'.");
        return v;
    }

    public double? OptionalDouble(string name)
    {
        if (_values[name] == "") return null;
        if (!double.TryParse(_values[name], System.Globalization.CultureInfo.InvariantCulture, out var v) || v <= 0)
            throw new BenchOptionException($"--{name} must be a positive number, got '{_values[name]}'.");
        return v;
    }

    public int[] Ints(string name) => _values[name].Split(',').Select(s =>
        int.TryParse(s, out var v) && v > 0 ? v : throw new BenchOptionException($"--{name} must be a comma-separated list of positive integers, got '{_values[name]}'.")).ToArray();

    /// <summary>The thread count for intra-op parallelism: the option, or every core when it is 0.</summary>
    public int Threads() => Int("threads", 0) is var t && t > 0 ? t : Environment.ProcessorCount;
}
