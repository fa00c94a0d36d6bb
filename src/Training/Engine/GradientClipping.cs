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
        // One read pass per fp32 gradient (norm allocates nothing). A bf16 one is widened first, one gradient at a
        // time: widened copies kept until the end of the scope would hold an fp32 copy of every gradient at once.
        var norms = new Tensor[grads.Count];
        for (var i = 0; i < grads.Count; i++)
        {
            if (grads[i].dtype == ScalarType.Float32) { norms[i] = grads[i].norm(); continue; }
            using var wide = grads[i].to(ScalarType.Float32);
            norms[i] = wide.norm();
        }
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
