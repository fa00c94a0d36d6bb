using Sft.Data.Datasets;
using Sft.Data.Datasets.Sources;

namespace Sft.Data.Tests.Datasets.Sources;

public class SplitTests
{
    [Fact]
    public void Hugging_face_file_naming_assigns_splits()
    {
        var assignment = SplitResolver.Assign([
            "README.md", ".gitattributes", "data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
            "data/validation-00000-of-00001.parquet", "data/test-00000-of-00001.parquet", "dataset_info.json",
        ]);

        Assert.Equal(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"], assignment.FilesOf("train"));
        Assert.Equal(["data/validation-00000-of-00001.parquet"], assignment.FilesOf("validation"));
        Assert.Equal(["data/test-00000-of-00001.parquet"], assignment.FilesOf("test"));
        Assert.Contains("README.md", assignment.Ignored);
        Assert.Contains("dataset_info.json", assignment.Ignored);
    }

    [Theory]
    [InlineData("train.jsonl", "train")]
    [InlineData("my_dev.json", "validation")]
    [InlineData("eval-set.csv", "test")]
    [InlineData("valid/part1.jsonl", "validation")]
    [InlineData("testing/a.json", "test")]
    [InlineData("alpaca_en_demo.json", null)]
    [InlineData("contest.json", null)]
    public void Split_keywords_match_whole_words_or_folders(string path, string? split) =>
        Assert.Equal(split, SplitResolver.SplitOf(path));

    [Fact]
    public void Without_split_names_every_data_file_of_the_main_kind_is_train()
    {
        var assignment = SplitResolver.Assign(["b.json", "a.json", "notes.txt", "extra.csv"]);
        Assert.Equal(["a.json", "b.json"], assignment.FilesOf("train"));
        Assert.Equal(["extra.csv", "notes.txt"], assignment.Ignored);

        var ex = Assert.Throws<DatasetException>(() => assignment.FilesOf("test"));
        Assert.Contains("no split 'test'; its splits: train", ex.Message);
    }

    [Fact]
    public void Explicit_data_files_take_globs_per_split()
    {
        var assignment = SplitResolver.Assign(
            ["en/part-0.jsonl", "en/part-1.jsonl", "zh/part-0.jsonl", "holdout.jsonl"],
            new Dictionary<string, IReadOnlyList<string>> { ["train"] = ["**/part-*.jsonl"], ["test"] = ["holdout.jsonl"] });
        Assert.Equal(["en/part-0.jsonl", "en/part-1.jsonl", "zh/part-0.jsonl"], assignment.FilesOf("train"));
        Assert.Equal(["holdout.jsonl"], assignment.FilesOf("test"));

        var ex = Assert.Throws<DatasetException>(() => SplitResolver.Assign(["a.jsonl"],
            new Dictionary<string, IReadOnlyList<string>> { ["train"] = ["*.parquet"] }));
        Assert.Contains("data_files pattern '*.parquet' of split 'train' matches no file. Files found: a.jsonl", ex.Message);
    }

    [Theory]
    [InlineData("*.json", "a.json", true)]
    [InlineData("*.json", "d/a.json", false)]
    [InlineData("**/*.json", "d/e/a.json", true)]
    [InlineData("**/*.json", "a.json", true)]
    [InlineData("data/*.{json,jsonl}", "data/x.jsonl", true)]
    [InlineData("part-[0-9].csv", "part-7.csv", true)]
    [InlineData("part-?.csv", "part-10.csv", false)]
    public void Globs_match_like_data_files(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Glob.IsMatch(pattern, path));

    [Theory]
    [InlineData("train", 999, 0, 999)]
    [InlineData("train[:90%]", 999, 0, 899)]
    [InlineData("train[90%:]", 999, 899, 100)]
    [InlineData("train[10:20]", 999, 10, 10)]
    [InlineData("train[-100:]", 999, 899, 100)]
    [InlineData("train[:5000]", 999, 0, 999)]
    [InlineData("train[50%:50%]", 10, 5, 0)]
    public void Slices_resolve_like_hugging_face(string text, long total, long skip, long take)
    {
        var (name, slice) = SplitSlice.Parse(text);
        Assert.Equal("train", name);
        var resolved = slice?.Resolve(total) ?? (0, total);
        Assert.Equal((skip, take), resolved);
    }

    [Fact]
    public void Bad_split_syntax_says_how_to_write_it()
    {
        var ex = Assert.Throws<DatasetException>(() => SplitSlice.Parse("train[:90"));
        Assert.Contains("'train[:90%]'", ex.Message);
    }
}
