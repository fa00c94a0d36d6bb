using Sft.Training.Checkpoints;
using Sft.Training.Engine;

namespace Sft.Web.Tests.Jobs;

/// <summary>Checks two checkpoint folders hold bit-identical weights and optimizer state.</summary>
public static class CheckpointAssert
{
    public static void SameWeights(string expectedDir, string actualDir, string because)
    {
        foreach (var file in new[] { "model.safetensors", TrainerCheckpoints.OptimizerFile })
        {
            using var expected = SafeTensorsFile.Open(Path.Combine(expectedDir, file));
            using var actual = SafeTensorsFile.Open(Path.Combine(actualDir, file));
            Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
            foreach (var name in expected.Tensors.Keys)
            {
                using var x = expected.Read(name);
                using var y = actual.Read(name);
                Assert.True(x.equal(y).all().item<bool>(), $"{file}: {name} differs {because}");
            }
        }
    }
}
