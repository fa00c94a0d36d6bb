using Sft.Web.Storage;

namespace Sft.Web.Tests.Storage;

public class DataFolderTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("sft-datafolder-").FullName;
    readonly string _outside = Directory.CreateTempSubdirectory("sft-outside-").FullName;

    [Theory]
    [InlineData("model.safetensors", null)]
    [InlineData("sub/dir/file.json", null)]
    [InlineData("", "empty")]
    [InlineData("../sft.db", "'..'")]
    [InlineData("a/../../b", "'..'")]
    [InlineData("./a", "'.'")]
    [InlineData("a//b", "empty")]
    [InlineData("/etc/passwd", "relative")]
    [InlineData("a\\..\\b", "'\\'")]
    [InlineData("C:/x", "':'")]
    public void Relative_paths_are_plain_or_refused_with_the_reason(string path, string? reasonPart)
    {
        var error = DataFolder.CheckRelative(path);
        if (reasonPart == null) Assert.Null(error);
        else Assert.Contains(reasonPart, error);
    }

    [Fact]
    public void Files_resolve_inside_the_folder_only_and_links_out_do_not_count()
    {
        var folder = new DataFolder(_root);
        var checkpoint = Directory.CreateDirectory(Path.Combine(_root, "jobs", "j", "step-1"));
        File.WriteAllText(Path.Combine(checkpoint.FullName, "w.bin"), "w");
        File.WriteAllText(Path.Combine(_outside, "secret"), "s");
        File.CreateSymbolicLink(Path.Combine(checkpoint.FullName, "link-out"), Path.Combine(_outside, "secret"));
        File.CreateSymbolicLink(Path.Combine(checkpoint.FullName, "link-in"), Path.Combine(checkpoint.FullName, "w.bin"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "jobs", "escaped"), _outside);

        Assert.NotNull(folder.ResolveFile(checkpoint, "w.bin", out var error));
        Assert.Null(error);
        Assert.NotNull(folder.ResolveFile(checkpoint, "link-in", out _));           // a link that stays inside is fine
        Assert.Null(folder.ResolveFile(checkpoint, "link-out", out error));
        Assert.Null(error);                                                          // not found, not a client error
        Assert.Null(folder.ResolveFile(checkpoint, "../step-1/w.bin", out error));
        Assert.NotNull(error);
        Assert.Null(folder.ResolveFile(checkpoint, "missing.bin", out _));

        Assert.NotNull(folder.ResolveStoredDirectory("jobs/j/step-1"));
        var trailing = folder.ResolveStoredDirectory("jobs/j/step-1/")!;                  // a stored path with a trailing '/'
        Assert.NotNull(folder.ResolveFile(trailing, "w.bin", out _));
        Assert.NotNull(folder.ResolveStoredDirectory(checkpoint.FullName));            // absolute but inside
        Assert.Null(folder.ResolveStoredDirectory("jobs/escaped"));                    // through a link, outside
        Assert.Null(folder.ResolveStoredDirectory(_outside));
        Assert.Null(folder.ResolveStoredDirectory("../" + Path.GetFileName(_outside)));

        Assert.Equal("jobs/j/step-1", folder.ToStored(checkpoint.FullName));
        Assert.Equal(_outside, folder.ToStored(_outside));
    }

    [Fact]
    public void The_real_path_of_a_linked_data_folder_is_its_target()
    {
        var link = Path.Combine(_outside, "data-link");
        Directory.CreateSymbolicLink(link, _root);
        var folder = new DataFolder(link);
        Assert.Equal(DataFolder.RealPath(_root), folder.RealRoot);
        Directory.CreateDirectory(Path.Combine(_root, "x"));
        Assert.NotNull(folder.ResolveStoredDirectory("x"));
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }
}
