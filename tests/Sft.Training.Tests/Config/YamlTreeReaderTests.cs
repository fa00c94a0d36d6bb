using Sft.Training.Config;
using Sft.Training.Config.Yaml;

namespace Sft.Training.Tests.Config;

public sealed class YamlTreeReaderTests
{
    static YamlMappingNode Read(string text)
    {
        var result = YamlTreeReader.Read(text, "t.yaml");
        Assert.Empty(result.Errors);
        return Assert.IsType<YamlMappingNode>(result.Root);
    }

    static ConfigIssue ReadError(string text, YamlLimits? limits = null)
    {
        var result = YamlTreeReader.Read(text, "t.yaml", limits);
        Assert.Null(result.Root);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void NodesKeepOneBasedLinesAndColumns()
    {
        var root = Read("a: 1\nb:\n  c: [x, 'y']\n");

        var b = Assert.IsType<YamlMappingNode>(root["b"]);
        Assert.Equal(new SourcePosition("t.yaml", 2, 1), root.KeyNode("b")!.Position);
        Assert.Equal((3, 3), (b.KeyNode("c")!.Line(), b.KeyNode("c")!.Column()));
        var items = Assert.IsType<YamlSequenceNode>(b["c"]).Items.Cast<YamlScalarNode>().ToList();
        Assert.Equal((3, 7, false), (items[0].Position.Line, items[0].Position.Column, items[0].Quoted));
        Assert.Equal((3, 10, true), (items[1].Position.Line, items[1].Position.Column, items[1].Quoted));
    }

    [Fact]
    public void AliasesExpandIntoIndependentCopies()
    {
        var root = Read("len: &n 8192\nmodel: {seq: *n}\nbase: &b {x: 1}\ncopy: *b\n");

        Assert.Equal("8192", ((YamlScalarNode)((YamlMappingNode)root["model"]!)["seq"]!).Value);
        Assert.NotSame(root["base"], root["copy"]);
    }

    [Fact]
    public void MergeKeysAddOnlyMissingEntries()
    {
        var root = Read("base: &b {lr: 1, wd: 2}\nopt:\n  <<: *b\n  lr: 5\n");

        var opt = (YamlMappingNode)root["opt"]!;
        Assert.Equal(("5", "2"), (((YamlScalarNode)opt["lr"]!).Value, ((YamlScalarNode)opt["wd"]!).Value));
        Assert.False(opt.ContainsKey("<<"));
    }

    [Fact]
    public void DuplicateKeysAreErrorsNamingBothLines()
    {
        var result = YamlTreeReader.Read("seed: 1\nlr: 2\nseed: 3\n", "t.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal(3, error.Line);
        Assert.Contains("duplicate key 'seed' (first defined at line 1)", error.Message);
    }

    [Fact]
    public void BillionLaughsIsRefusedAtTheAliasThatCrossesTheLimit()
    {
        // Nine levels of ten aliases each: 10^9 nodes if expanded.
        var lines = new List<string> { "a0: &a0 [lol]" };
        for (var i = 1; i <= 9; i++)
            lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");

        var error = ReadError(string.Join('\n', lines));

        Assert.Contains("expands to more than 100,000 nodes", error.Message);
        Assert.Contains("Alias '*a", error.Message);
        Assert.InRange(error.Line, 5, 6);
    }

    [Fact]
    public void OversizedDocumentsAndDeepNestingAreRefused()
    {
        var big = ReadError("x: '" + new string('a', 2000) + "'", new YamlLimits(1000, 100, 10));
        Assert.Contains("the limit is 1,000", big.Message);

        var deep = ReadError(string.Concat(Enumerable.Range(0, 12).Select(i => new string(' ', 2 * i) + $"k{i}:\n")) + new string(' ', 24) + "v: 1",
            new YamlLimits(100_000, 1000, 10));
        Assert.Contains("deeper than 10 levels", deep.Message);
    }

    [Fact]
    public void NonStandardTagsAreRefused()
    {
        var error = ReadError("x: !!python/object/apply:os.system ['rm -rf /']\n");

        Assert.Contains("tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed", error.Message);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void SyntaxErrorsGiveTheirPosition()
    {
        var error = ReadError("a: 1\nb: [1, 2\nc: 3\n");
        Assert.StartsWith("YAML syntax error", error.Message);
        Assert.True(error.Line >= 2);

        var bad = ReadError("a: 1\n  b: 2\n");
        Assert.Equal(2, bad.Line);
        Assert.StartsWith("YAML syntax error", bad.Message);
    }

    [Fact]
    public void EmptyAndMultiDocumentStreamsAreRefused()
    {
        Assert.Contains("empty", ReadError("").Message);
        Assert.Contains("more than one YAML document", ReadError("a: 1\n---\nb: 2\n").Message);
    }

    [Theory]
    [InlineData("1.e-8", 1e-8)]
    [InlineData("1.0e-6", 1e-6)]
    [InlineData("1e-5", 1e-5)]
    [InlineData(".5", 0.5)]
    [InlineData("1_000", 1000)]
    [InlineData("-3", -3)]
    [InlineData("0x10", 16)]
    public void NumbersFollowPyYamlWithUnDottedExponentsAccepted(string text, double expected)
    {
        Assert.True(YamlScalars.TryDouble(text, out var value));
        Assert.Equal(expected, value, 12);
    }

    [Theory]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData("yes", true)]
    [InlineData("OFF", false)]
    public void BooleansFollowPyYaml(string text, bool expected)
    {
        Assert.True(YamlScalars.TryBool(text, out var value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public void QuotedAndTaggedStringsAreNeverNumbersOrNull()
    {
        var root = Read("a: '1'\nb: !!str 2\nc: null\nd: ~\ne:\nf: 'null'\n");

        Assert.True(((YamlScalarNode)root["a"]!).Quoted);
        Assert.True(((YamlScalarNode)root["b"]!).Quoted);
        Assert.True(((YamlScalarNode)root["c"]!).IsNull);
        Assert.True(((YamlScalarNode)root["d"]!).IsNull);
        Assert.True(((YamlScalarNode)root["e"]!).IsNull);
        Assert.False(((YamlScalarNode)root["f"]!).IsNull);
    }
}

static class NodePositions
{
    public static int Line(this YamlNode node) => node.Position.Line;
    public static int Column(this YamlNode node) => node.Position.Column;
}
