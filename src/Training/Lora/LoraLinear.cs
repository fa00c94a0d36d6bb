using Sft.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Sft.Training.Lora;

/// <summary>
/// A linear layer with a low-rank adapter, as PEFT's <c>lora.Linear</c> computes it:
/// y = x·Wᵀ + b + B(A(dropout(x)))·scaling, with A <c>[r, in]</c>, B <c>[out, r]</c> and scaling
/// alpha/r (alpha/√r with rsLoRA). The base <c>weight</c>/<c>bias</c> keep their keys (the same
/// Parameter objects as the layer it replaces, frozen), and the adapter adds <c>lora_A.weight</c> and
/// <c>lora_B.weight</c> beside them, so state-dict names stay those of Hugging Face.
/// </summary>
public sealed class LoraLinear : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // HF state-dict names
    readonly Parameter weight;
    readonly Parameter? bias;
    readonly Linear lora_A;
    readonly Linear lora_B;
    readonly Dropout? lora_dropout;
#pragma warning restore IDE1006

    public int Rank { get; }
    public double Scaling { get; private set; }
    public bool Merged { get; private set; }

    public LoraLinear(Parameter baseWeight, Parameter? baseBias, int rank, double alpha, double dropout, bool useRsLora)
        : base(nameof(LoraLinear))
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), "LoRA rank must be positive.");
        Rank = rank;
        Scaling = useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
        long outFeatures = baseWeight.shape[0], inFeatures = baseWeight.shape[1];
        weight = baseWeight;
        bias = baseBias;
        weight.requires_grad = false;
        if (bias is not null) bias.requires_grad = false;
        var device = baseWeight.device;
        // PEFT's default init: A like nn.Linear (kaiming-uniform, a=√5), B zeros, so training starts at the base model.
        lora_A = Linear(inFeatures, rank, hasBias: false, device: device, dtype: ScalarType.Float32);
        lora_B = Linear(rank, outFeatures, hasBias: false, device: device, dtype: ScalarType.Float32);
        using (no_grad()) lora_B.weight!.zero_();
        if (baseWeight.dtype != ScalarType.Float32)
        {
            lora_A.to(baseWeight.dtype);
            lora_B.to(baseWeight.dtype);
        }
        lora_dropout = dropout > 0 ? Dropout(dropout) : null;
        RegisterComponents();
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public Parameter LoraA => lora_A.weight!;
    public Parameter LoraB => lora_B.weight!;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        if (Merged) return Bf16Widening.Linear(input, weight, bias).MoveToOuterDisposeScope();
        var x = lora_dropout is null ? input : lora_dropout.forward(input);
        if (Bf16Widening.Applies(input))
            return Bf16Widening.Linear(input, weight, bias)
                .add_(Bf16Widening.Linear(Bf16Widening.Linear(x, LoraA, null), LoraB, null).mul_(Scaling)).MoveToOuterDisposeScope();
        // result += scaling·(x·Aᵀ)·Bᵀ as one in-place addmm on the base output: no [tokens, out] temporary
        // for the adapter term, and backward scales the rank-r product instead of a full-width gradient.
        var rows = input.reshape(-1, input.shape[^1]);                                      // [N, in]
        var result = functional.linear(rows, weight, bias);                                  // [N, out]
        var down = functional.linear(x.reshape(-1, x.shape[^1]), LoraA);                    // [N, r]
        result.addmm_(down, LoraB.t(), beta: 1, alpha: (float)Scaling);
        return result.view([.. input.shape[..^1], result.shape[^1]]).MoveToOuterDisposeScope();
    }

    /// <summary>W += (B·A)·scaling, after which the adapter path is skipped (PEFT's merge).</summary>
    public void Merge()
    {
        if (Merged) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var delta = lora_B.weight!.to(ScalarType.Float32).matmul(lora_A.weight!.to(ScalarType.Float32)).mul_(Scaling);
        weight.copy_(weight.to(ScalarType.Float32).add_(delta));
        Merged = true;
    }
}
