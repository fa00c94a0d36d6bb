using Sft.Data.Datasets.Formats;
using Sft.Data.Datasets.Loading;
using Sft.Training.Config;

namespace Sft.Training.Tests.Config;

/// <summary><c>train_dataset.data_loader</c> becomes the data layer's <c>DatasetSpec</c>, which then loads.</summary>
public sealed class DataConfigTests : IDisposable
{
    readonly TempModelFolder _model = TempModelFolder.CopyOf(TestFiles.ReferenceModel("qwen2_tied"));
    readonly TempDir _data = new();

    public DataConfigTests()
    {
        var rows = File.ReadAllText(TestFiles.DemoDataset);
        Directory.CreateDirectory(_data["parts"]);
        File.WriteAllText(_data["parts/a.json"], rows);
        File.WriteAllText(_data["parts/b.json"], rows);
        File.WriteAllText(_data["parts/test.json"], rows);
    }

    public void Dispose()
    {
        _model.Dispose();
        _data.Dispose();
    }

    ConfigLoadResult Load(string loader) => TrainConfigLoader.Load($"""
        load_checkpoint: '{_model.Path}'
        train_dataset:
          data_loader:
        {string.Join('\n', loader.Split('\n').Select(l => "    " + l))}
            handler:
              - type: AlpacaInstructDataHandler
                seq_length: 64
        lr_schedule:
          learning_rate: 1.e-4
        """, new ConfigLoadOptions { SourceName = "data.yaml", BaseDirectory = _data.Path });

    static ConfigIssue Error(ConfigLoadResult result, string key) =>
        Assert.Single(result.Validation.Errors, e => e.Path == "train_dataset.data_loader." + key);

    [Fact]
    public async Task MindFormersJsonWithSeveralDataFilesBecomesTheirFolderWithDataFiles()
    {
        var result = Load("path: json\ndata_files: [parts/a.json, parts/b.json]\nsplit: 'train[:10%]'");

        Assert.True(result.IsValid, result.Validation.Format());
        var spec = result.Config!.TrainData.Spec;
        Assert.Equal((DatasetOrigin.LocalFolder, _data["parts"]), (result.Config.TrainData.Origin, spec.Path));
        Assert.Equal(["a.json", "b.json"], spec.DataFiles!["train"]);
        var split = await new DatasetLoader().LoadSplitAsync(spec);
        Assert.Equal(200, await split.CountAsync());                  // 10% of 2 × 999 rows, rounded as HF does
    }

    [Fact]
    public async Task AFolderWithADataFilesMappingPicksTheSplitsFiles()
    {
        var result = Load("path: parts\ndata_files: {train: [a.json, b.json], test: test.json}\nsplit: test");

        Assert.True(result.IsValid, result.Validation.Format());
        var spec = result.Config!.TrainData.Spec;
        Assert.Equal(["test.json"], spec.DataFiles!["test"]);
        Assert.Equal(999, await (await new DatasetLoader().LoadSplitAsync(spec)).CountAsync());
    }

    [Fact]
    public void FormatsAndColumnsUseTheDataLayersNames()
    {
        var result = Load("path: parts/a.json\nformat: sharegpt\ncolumns: {messages: dialog, role_tag: speaker, assistant_tag: bot}");

        Assert.True(result.IsValid, result.Validation.Format());
        var spec = result.Config!.TrainData.Spec;
        Assert.Equal(DatasetFormat.ShareGpt, spec.Format);
        Assert.Equal(("dialog", "speaker", "bot"), (spec.Columns.Messages, spec.Columns.RoleKey, spec.Columns.AssistantTag));
    }

    [Fact]
    public void BadFormatsColumnsSplitsAndDataFilesAreErrors()
    {
        Assert.Contains("unknown dataset format 'yaml'", Error(Load("path: parts/a.json\nformat: yaml"), "format").Message);
        Assert.Contains("unknown column mapping key 'prompt'", Error(Load("path: parts/a.json\ncolumns: {prompt: q}"), "columns").Message);
        Assert.Contains("data_files needs path to be a folder", Error(Load("path: parts/a.json\ndata_files: b.json"), "data_files").Message);
        Assert.Contains("not supported", Error(Load("path: llm-wizard/alpaca-gpt4-data\nname: en"), "name").Message);
        Assert.Equal(5, Error(Load("path: parts/a.json\nsplit: 'train[:x'"), "split").Line);
    }
}
