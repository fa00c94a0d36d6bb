using static TorchSharp.torch;

namespace Sft.Training.Models;

/// <summary>
/// Keys and values of the tokens seen so far, one pair per layer (<c>[B, nkv, S, hd]</c>, after RoPE,
/// before the GQA expansion), so a generation step only runs the new tokens. The cache owns its
/// tensors (they live outside dispose scopes) and frees them on <see cref="Dispose"/>. Use it under
/// <c>torch.no_grad()</c>.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys, _values;

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Number of cached positions (the last layer is the last to be extended in a step).</summary>
    public long Length => _keys[^1]?.shape[2] ?? 0;

    /// <summary>Appends this step's keys/values for one layer and returns the whole sequence's.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        _keys[layer] = Extend(_keys[layer], keys);
        _values[layer] = Extend(_values[layer], values);
        return (_keys[layer]!, _values[layer]!);
    }

    static Tensor Extend(Tensor? old, Tensor next)
    {
        var joined = (old is null ? next.detach() : cat([old, next.detach()], 2)).DetachFromDisposeScope();
        old?.Dispose();
        return joined;
    }

    public void Dispose()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose(); _keys[i] = null;
            _values[i]?.Dispose(); _values[i] = null;
        }
    }
}
