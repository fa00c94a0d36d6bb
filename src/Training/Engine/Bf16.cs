using System.Runtime.Intrinsics;

namespace Sft.Training.Engine;

/// <summary>bfloat16 is the upper half of an fp32: widening is a shift, narrowing rounds to nearest-even (NaN stays NaN), as c10::BFloat16 does.</summary>
internal static class Bf16
{
    public static float ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static ushort Round(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        var bits = (uint)BitConverter.SingleToInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    public static Vector256<float> Widen(Vector128<ushort> bits)
    {
        var wide = Vector256.Create(Vector128.WidenLower(bits), Vector128.WidenUpper(bits));   // [8] uint
        return Vector256.ShiftLeft(wide, 16).AsSingle();
    }

    public static Vector128<ushort> Round(Vector256<float> values)
    {
        var bits = values.AsUInt32();
        var rounded = Vector256.ShiftRightLogical(bits + Vector256.Create(0x7FFFu) + (Vector256.ShiftRightLogical(bits, 16) & Vector256<uint>.One), 16);
        var notNan = Vector256.Equals(values, values).AsUInt32();
        rounded = Vector256.ConditionalSelect(notNan, rounded, Vector256.Create(0x7FC0u));
        return Vector128.Narrow(rounded.GetLower(), rounded.GetUpper());
    }
}
