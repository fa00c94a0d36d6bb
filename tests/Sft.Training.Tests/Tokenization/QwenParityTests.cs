using Sft.Training.Tokenization;

namespace Sft.Training.Tests.Tokenization;

/// <summary>Ids and decodes of the real Qwen tokenizer against Hugging Face's, case by case.</summary>
public class QwenParityTests
{
    static readonly HfTokenizer Qwen = BuiltInTokenizers.LoadQwen();

    [Fact]
    public void Every_reference_text_encodes_to_the_same_ids()
    {
        Assert.True(QwenReference.Encodes.Count > 6000, "fixture holds all demo fields and the edge cases");
        var mismatches = QwenReference.Encodes
            .Where(c => !Qwen.Encode(c.Text).SequenceEqual(c.Ids))
            .Select(c => $"{Escape(c.Text)}: expected [{string.Join(",", c.Ids)}], got [{string.Join(",", Qwen.Encode(c.Text))}]")
            .Take(10).ToList();
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void Every_reference_decode_gives_the_same_text()
    {
        Assert.NotEmpty(QwenReference.Decodes);
        foreach (var c in QwenReference.Decodes)
            Assert.Equal(c.Text, Qwen.Decode(c.Ids, c.Skip));
    }

    [Fact]
    public void Decoding_reference_ids_gives_back_the_text()
    {
        // Byte-level BPE is lossless on text that is already NFC (the normaliser changes the others).
        var nfc = QwenReference.Encodes.Where(c => c.Text.IsNormalized(System.Text.NormalizationForm.FormC)).ToList();
        Assert.True(nfc.Count > 6000);
        foreach (var c in nfc) Assert.Equal(c.Text, Qwen.Decode(c.Ids));
    }

    [Fact]
    public void Batch_encoding_in_parallel_equals_one_by_one()
    {
        var texts = QwenReference.Encodes.Select(c => c.Text).ToList();
        var batch = Qwen.EncodeBatch(texts);
        for (var i = 0; i < texts.Count; i++) Assert.Equal(QwenReference.Encodes[i].Ids, batch[i]);
    }

    static string Escape(string s) => System.Text.Json.JsonSerializer.Serialize(s.Length > 80 ? s[..80] + "…" : s);
}
