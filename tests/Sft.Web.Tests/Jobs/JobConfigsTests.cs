using System.Text.Json;
using Sft.Training.Config;
using Sft.Web.Jobs;

namespace Sft.Web.Tests.Jobs;

/// <summary>What a job stores about its config: the resolved config as JSON, for every shipped example (full and LoRA).</summary>
public class JobConfigsTests
{
    public static TheoryData<string> Examples => new(ExampleConfigs.Names);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_config_resolves_to_JSON(string name)
    {
        var load = TrainConfigLoader.Load(ExampleConfigs.Read(name), new ConfigLoadOptions
        {
            CheckFileSystem = false, AvailableCudaDevices = 8,
            Overrides = ["parallel_config.pipeline_stage=1"],          // the 7B origin configs ask for pipeline stages
        });
        Assert.True(load.IsValid, load.Validation.Format());
        using var json = JsonDocument.Parse(JobConfigs.ToJson(load.Config!));
        Assert.Equal(load.Config!.IsLora, json.RootElement.GetProperty("lora").ValueKind == JsonValueKind.Object);
        Assert.True(json.RootElement.GetProperty("optimizer").EnumerateObject().Any());
    }

    [Fact]
    public void Job_ids_have_the_api_shape_and_bad_ones_say_why()
    {
        var id = JobIds.New();
        Assert.Null(JobIds.Check(id));
        Assert.NotEqual(id, JobIds.New());
        Assert.Contains("24 hex digits", JobIds.Check("ftjob-../../x"));
    }
}
