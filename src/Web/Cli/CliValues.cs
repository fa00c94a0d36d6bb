using Sft.Training.Models;
using static TorchSharp.torch;

namespace Sft.Web.Cli;

/// <summary>Option values shared by the model commands, with usage errors that name the option.</summary>
static class CliValues
{
    public static ScalarType Dtype(string command, string value)
    {
        try { return ModelConfig.ParseDtype(value, "--dtype"); }
        catch (ArgumentException e) { throw new CliUsageException($"{command}: {e.Message}"); }
    }

    public static Device Device(string command, string? value)
    {
        try { return ComputeDevice.Resolve(value); }
        catch (ArgumentException e) { throw new CliUsageException($"{command}: --{e.Message}"); }
    }

    public static int? OptionalInt(string command, string option, string? value) =>
        value is null ? null : int.TryParse(value, out var n) && n > 0 ? n
            : throw new CliUsageException($"{command}: --{option} must be a positive integer, got '{value}'.");

    public static long? OptionalLong(string command, string option, string? value) =>
        value is null ? null : long.TryParse(value, out var n) ? n
            : throw new CliUsageException($"{command}: --{option} must be an integer, got '{value}'.");

    /// <summary>Errors caused by the files or values given (reported as one line, exit code 1), not bugs.</summary>
    public static bool IsInputError(Exception e) =>
        e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or KeyNotFoundException;
}
