using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sft.Training.Engine;

public static class GradientClipping
{
    /// <summary>
    /// The global L2 norm over all gradients (computed in fp32), and when <paramref name="maxNorm"/> is
    /// positive, scales them by min(1, maxNorm / (norm + 1e-6)) as torch.nn.utils.clip_grad_norm_ does.
    /// Returns the norm before clipping.
    /// </summary>
    public static double ClipByGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return 0;
        // One read pass per fp32 gradient (norm allocates nothing); bf16 ones are widened first.
        var norms = grads.Select(g => (g.dtype == ScalarType.Float32 ? g : g.to(ScalarType.Float32)).norm()).ToArray();
        var total = stack(norms).square().sum().sqrt();
        var norm = total.item<float>();
        if (maxNorm > 0)
        {
            var coefficient = Math.Min(1.0, maxNorm / (norm + 1e-6));
            if (coefficient < 1.0)
                using (no_grad())
                    foreach (var g in grads) g.mul_(coefficient);
        }
        return norm;
    }
}
