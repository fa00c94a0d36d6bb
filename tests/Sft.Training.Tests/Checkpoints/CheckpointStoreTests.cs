using Sft.Training.Checkpoints;
using static TorchSharp.torch;

namespace Sft.Training.Tests.Checkpoints;

public class CheckpointStoreTests
{
    static string Save(CheckpointStore store, long step)
    {
        using var staging = store.Begin(step);
        using (var scope = NewDisposeScope())
            SafeTensorsWriter.Save(Path.Combine(staging.Path, "model.safetensors"), [("w", full(new long[] { 4 }, (float)step))]);
        File.WriteAllText(Path.Combine(staging.Path, CheckpointStore.StateFileName), $"{{\"global_step\": {step}}}");
        return staging.Commit();
    }

    [Fact]
    public void Lists_complete_checkpoints_and_skips_broken_ones_with_a_warning()
    {
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        Save(store, 10);
        Save(store, 20);
        var broken = Save(store, 30);
        File.WriteAllText(Path.Combine(broken, CheckpointStore.StateFileName), "{ truncated");
        var unfinished = Save(store, 40);
        File.Delete(Path.Combine(unfinished, CheckpointStore.StateFileName));
        var badWeights = Save(store, 50);
        File.WriteAllBytes(Path.Combine(badWeights, "model.safetensors"), [1, 2, 3]);

        var warnings = new List<string>();
        var list = store.List(warnings.Add);
        Assert.Equal([10L, 20L], list.Select(c => c.Step));
        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("step-30") && w.Contains("corrupt"));
        Assert.Contains(warnings, w => w.Contains("step-40") && w.Contains("missing"));
        Assert.Contains(warnings, w => w.Contains("step-50") && w.Contains("safetensors"));
    }

    [Fact]
    public void Retention_keeps_the_newest_and_removes_leftovers()
    {
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        foreach (var step in new[] { 1L, 2, 3, 4 }) Save(store, step);
        var abandoned = store.Begin(5);   // a save that crashed: never committed, never disposed
        store.ApplyRetention(keep: 2);
        Assert.Equal([3L, 4L], store.List().Select(c => c.Step));
        Assert.False(Directory.Exists(abandoned.Path));

        store.ApplyRetention(keep: 0);     // 0 keeps everything
        Assert.Equal(2, store.List().Count);
    }

    [Fact]
    public void An_uncommitted_staging_folder_is_removed_and_never_listed()
    {
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        string staged;
        using (var staging = store.Begin(7))
        {
            staged = staging.Path;
            File.WriteAllText(Path.Combine(staging.Path, CheckpointStore.StateFileName), "{\"global_step\": 7}");
            Assert.Empty(store.List());
        }
        Assert.False(Directory.Exists(staged));
        Assert.Empty(store.List());
    }

    [Fact]
    public void Saving_the_same_step_again_replaces_it()
    {
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        Save(store, 3);
        var path = Save(store, 3);
        Assert.Single(store.List());
        Assert.Single(Directory.GetDirectories(dir.Path));
        Assert.Equal(Path.Combine(dir.Path, "step-3"), path);
    }
}
