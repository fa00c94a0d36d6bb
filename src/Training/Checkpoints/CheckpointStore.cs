using System.Globalization;
using System.Text.Json;

namespace Sft.Training.Checkpoints;

/// <summary>One complete checkpoint folder of a run.</summary>
public sealed record CheckpointInfo(long Step, string Path, DateTime WrittenUtc);

/// <summary>
/// The checkpoints of one run: <c>{root}/step-{N}/</c> folders. A checkpoint is written into a hidden
/// staging folder and renamed into place only when complete, with <see cref="StateFileName"/> written
/// last, so a crash mid-save leaves no folder that looks complete. Retention keeps the newest
/// <c>keep</c> complete checkpoints and never deletes the newest one.
/// </summary>
public sealed class CheckpointStore
{
    public const string StateFileName = "trainer_state.json";
    const string Prefix = "step-";

    public string Root { get; }

    public CheckpointStore(string root)
    {
        Root = System.IO.Path.GetFullPath(root);
    }

    public static string FolderName(long step) => Prefix + step.ToString(CultureInfo.InvariantCulture);

    /// <summary>Starts writing the checkpoint of <paramref name="step"/>: fill <see cref="Staging.Path"/>, then <see cref="Staging.Commit"/>.</summary>
    public Staging Begin(long step)
    {
        Directory.CreateDirectory(Root);
        var staging = System.IO.Path.Combine(Root, $".staging-{FolderName(step)}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        return new Staging(this, step, staging);
    }

    /// <summary>Complete checkpoints, oldest first. A folder is complete when its state file parses and
    /// names the same step; anything else (a crash leftover, a hand-edited folder) is reported through
    /// <paramref name="warn"/> and passed over.</summary>
    public IReadOnlyList<CheckpointInfo> List(Action<string>? warn = null)
    {
        if (!Directory.Exists(Root)) return [];
        var found = new List<CheckpointInfo>();
        foreach (var dir in Directory.EnumerateDirectories(Root, Prefix + "*"))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (!long.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var step)) continue;
            var problem = Check(dir, step);
            if (problem is null) found.Add(new CheckpointInfo(step, dir, Directory.GetLastWriteTimeUtc(dir)));
            else warn?.Invoke($"Skipping checkpoint {dir}: {problem}");
        }
        return found.OrderBy(c => c.Step).ToList();
    }

    static string? Check(string dir, long step)
    {
        var statePath = System.IO.Path.Combine(dir, StateFileName);
        if (!File.Exists(statePath)) return $"{StateFileName} is missing (the save did not finish)";
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(statePath));
            if (!doc.RootElement.TryGetProperty("global_step", out var s) || s.GetInt64() != step)
                return $"{StateFileName} does not record step {step}";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return $"{StateFileName} is corrupt ({e.Message})";
        }
        foreach (var file in Directory.EnumerateFiles(dir, "*.safetensors", SearchOption.AllDirectories))
        {
            try { using var _ = SafeTensorsFile.Open(file); }
            catch (InvalidDataException e) { return e.Message; }
        }
        return null;
    }

    /// <summary>Deletes old complete checkpoints beyond the newest <paramref name="keep"/> (0 or less keeps all)
    /// and staging leftovers of earlier crashes. The newest complete checkpoint is never deleted.</summary>
    public void ApplyRetention(int keep, Action<string>? warn = null)
    {
        foreach (var leftover in Directory.EnumerateDirectories(Root, ".staging-*")
                     .Concat(Directory.EnumerateDirectories(Root, Prefix + "*.replaced-*")))
            TryDelete(leftover, warn);
        if (keep <= 0) return;
        var complete = List(warn);
        foreach (var old in complete.Take(Math.Max(0, complete.Count - Math.Max(1, keep))))
            TryDelete(old.Path, warn);
    }

    static void TryDelete(string dir, Action<string>? warn)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException e) { warn?.Invoke($"Could not delete {dir}: {e.Message}"); }
        catch (UnauthorizedAccessException e) { warn?.Invoke($"Could not delete {dir}: {e.Message}"); }
    }

    /// <summary>A checkpoint being written. Disposing without <see cref="Commit"/> deletes it.</summary>
    public sealed class Staging : IDisposable
    {
        readonly CheckpointStore _store;
        bool _committed;

        public long Step { get; }
        public string Path { get; }

        internal Staging(CheckpointStore store, long step, string path) { _store = store; Step = step; Path = path; }

        /// <summary>Moves the staged folder into place (replacing an older checkpoint of the same step) and returns its final path.</summary>
        public string Commit()
        {
            if (!File.Exists(System.IO.Path.Combine(Path, StateFileName)))
                throw new InvalidOperationException($"A checkpoint needs its {StateFileName} before it is committed.");
            var final = System.IO.Path.Combine(_store.Root, FolderName(Step));
            if (Directory.Exists(final))
            {
                var replaced = final + $".replaced-{Guid.NewGuid():N}";
                Directory.Move(final, replaced);
                Directory.Move(Path, final);
                Directory.Delete(replaced, recursive: true);
            }
            else Directory.Move(Path, final);
            _committed = true;
            return final;
        }

        public void Dispose()
        {
            if (!_committed && Directory.Exists(Path)) TryDelete(Path, null);
        }
    }
}
