using System.Text.RegularExpressions;
using Sft.Training.Config;

namespace Sft.Training.Tests.Config;

public sealed class TargetModulesTests
{
    static readonly ModelDims TwoLayers = new("qwen2", 512, 64, 2, 4, 2, 16, 128, true, true, 128, 1e6, 1e-6, "test");

    static IReadOnlyList<string> Modules => TwoLayers.LinearModules().Select(m => m.Name).ToList();

    [Theory]
    [InlineData("wq", "q_proj")]
    [InlineData("wk", "k_proj")]
    [InlineData("wv", "v_proj")]
    [InlineData("wo", "o_proj")]
    [InlineData("w1", "gate_proj")]
    [InlineData("w2", "down_proj")]
    [InlineData("w3", "up_proj")]
    [InlineData("attention.wq", "self_attn.q_proj")]
    [InlineData("feed_forward.w1", "mlp.gate_proj")]
    [InlineData("q_proj", "q_proj")]
    [InlineData("wqkv", "wqkv")]
    public void MindFormersNamesMapToHuggingFaceNames(string mindFormers, string hf) =>
        Assert.Equal(hf, TargetModules.MapName(mindFormers));

    [Theory]
    [InlineData(".*wq|.*wk|.*wv|.*wo", ".*q_proj|.*k_proj|.*v_proj|.*o_proj")]
    [InlineData(@".*feed_forward\.w[1]|.*w2", @".*mlp\.w[1]|.*down_proj")]
    [InlineData(@"model\.layers\.\d+\.attention\.(wq|wv)", @"model\.layers\.\d+\.self_attn\.(q_proj|v_proj)")]
    [InlineData(@"\w1|w10|xw1", @"\w1|w10|xw1")]
    public void NamesInsideRegexesAreMappedOnlyWhenTheyStandAlone(string pattern, string mapped) =>
        Assert.Equal(mapped, TargetModules.MapPattern(pattern));

    [Fact]
    public void ARegexMustMatchTheWholeModuleName()
    {
        var t = TargetModules.FromPattern(@"model\.layers\.\d+\.self_attn\.(q_proj|v_proj)");

        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
            "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"], t.Select(Modules));
        Assert.False(TargetModules.FromPattern("q_proj").Matches("model.layers.0.self_attn.q_proj"));
        Assert.False(TargetModules.FromPattern(".*q_proj").Matches("model.layers.0.self_attn.q_proj_extra"));
    }

    [Fact]
    public void TheMindFormersGuideRegexSelectsTheAttentionProjections()
    {
        var t = TargetModules.FromPattern(".*wq|.*wk|.*wv|.*wo");

        Assert.Equal(8, t.Select(Modules).Count);
        Assert.All(t.Select(Modules), n => Assert.Contains(".self_attn.", n));
    }

    [Fact]
    public void AListMatchesAnEqualNameOrADotSuffix()
    {
        var t = TargetModules.FromList(["w1", "w3", "lm_head", "proj"]);

        Assert.Equal(["gate_proj", "up_proj", "lm_head", "proj"], t.Names);
        Assert.Equal(["model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj",
            "model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj", "lm_head"], t.Select(Modules));
        Assert.True(t.Matches("gate_proj"));
        Assert.False(t.Matches("model.layers.0.mlp.xgate_proj"));
    }

    [Fact]
    public void TheDefaultIsPeftsQAndV() =>
        Assert.Equal(["q_proj", "v_proj"], TargetModules.Default.Names);

    [Fact]
    public void AnInvalidRegexThrowsNamingTheProblem()
    {
        var e = Assert.Throws<RegexParseException>(() => TargetModules.FromPattern(".*wq|(["));
        Assert.Contains(".*q_proj|([", e.Message);
    }
}
