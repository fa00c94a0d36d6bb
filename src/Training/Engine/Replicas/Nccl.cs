using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Sft.Training.Engine.Replicas;

/// <summary>
/// The few NCCL entry points data parallel needs, bound at run time from the system's <c>libnccl.so.2</c>
/// (nccl.h: ncclCommInitAll, ncclReduce, ncclBroadcast, ncclGroupStart/End, ncclCommDestroy, ncclGetErrorString).
/// Nothing here loads unless a job trains on several GPUs.
/// </summary>
public sealed unsafe class Nccl
{
    public const string LibraryName = "libnccl.so.2";

    // ncclDataType_t and ncclRedOp_t values from nccl.h.
    const int NcclInt64 = 4, NcclFloat16 = 6, NcclFloat32 = 7, NcclFloat64 = 8, NcclBfloat16 = 9;
    const int NcclSum = 0;

    readonly delegate* unmanaged<IntPtr*, int, int*, int> _commInitAll;
    readonly delegate* unmanaged<IntPtr, int> _commDestroy;
    readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, int, IntPtr, IntPtr, int> _reduce;
    readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> _broadcast;
    readonly delegate* unmanaged<int> _groupStart;
    readonly delegate* unmanaged<int> _groupEnd;
    readonly delegate* unmanaged<int, IntPtr> _errorString;

    Nccl(IntPtr library)
    {
        _commInitAll = (delegate* unmanaged<IntPtr*, int, int*, int>)NativeLibrary.GetExport(library, "ncclCommInitAll");
        _commDestroy = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "ncclCommDestroy");
        _reduce = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, int, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "ncclReduce");
        _broadcast = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "ncclBroadcast");
        _groupStart = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "ncclGroupStart");
        _groupEnd = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "ncclGroupEnd");
        _errorString = (delegate* unmanaged<int, IntPtr>)NativeLibrary.GetExport(library, "ncclGetErrorString");
    }

    /// <summary>NCCL when the library loads, else null with the reason (what to install).</summary>
    public static Nccl? TryLoad(out string? reason)
    {
        if (NativeLibrary.TryLoad(LibraryName, out var library))
        {
            try
            {
                reason = null;
                return new Nccl(library);
            }
            catch (EntryPointNotFoundException e)
            {
                reason = $"{LibraryName} was found but lacks {e.Message}; install NCCL 2.x (libnccl2).";
                return null;
            }
        }
        reason = $"data parallel on CUDA needs NCCL ({LibraryName}) for GPU-to-GPU reduction; it was not found. " +
                 "Install it (apt install libnccl2 from NVIDIA's CUDA repository, or pip's nvidia-nccl-cu12) " +
                 "or add its folder to LD_LIBRARY_PATH.";
        return null;
    }

    /// <summary>One communicator per device, in the order given (rank i on devices[i]).</summary>
    public IntPtr[] InitAll(IReadOnlyList<int> devices)
    {
        var comms = new IntPtr[devices.Count];
        var list = devices.ToArray();
        fixed (IntPtr* c = comms)
        fixed (int* d = list)
            Check(_commInitAll(c, list.Length, d), "ncclCommInitAll");
        return comms;
    }

    public void Destroy(IntPtr comm) => _commDestroy(comm);

    public void GroupStart() => Check(_groupStart(), "ncclGroupStart");

    public void GroupEnd() => Check(_groupEnd(), "ncclGroupEnd");

    /// <summary>Sums <paramref name="tensor"/> over all ranks into root's, in place. Stream 0 is the device's
    /// default stream, the one libtorch queues its kernels on, so the reduction runs after the backward pass that
    /// wrote the gradients and before the kernels that read them.</summary>
    public void ReduceSum(Tensor tensor, int root, IntPtr comm)
    {
        var pointer = DataPointer(tensor);
        Check(_reduce(pointer, pointer, (nuint)tensor.numel(), DataType(tensor), NcclSum, root, comm, IntPtr.Zero), "ncclReduce");
    }

    /// <summary>Copies root's <paramref name="tensor"/> into every rank's, in place, on the default stream.</summary>
    public void Broadcast(Tensor tensor, int root, IntPtr comm)
    {
        var pointer = DataPointer(tensor);
        Check(_broadcast(pointer, pointer, (nuint)tensor.numel(), DataType(tensor), root, comm, IntPtr.Zero), "ncclBroadcast");
    }

    static IntPtr DataPointer(Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CUDA || !tensor.is_contiguous())
            throw new ArgumentException($"NCCL needs contiguous CUDA tensors; got a {(tensor.is_contiguous() ? "" : "non-contiguous ")}{tensor.device_type} tensor.");
        return Checkpoints.TensorMemory.RawPointer(tensor);
    }

    static int DataType(Tensor tensor) => tensor.dtype switch
    {
        ScalarType.Float32 => NcclFloat32,
        ScalarType.BFloat16 => NcclBfloat16,
        ScalarType.Float16 => NcclFloat16,
        ScalarType.Float64 => NcclFloat64,
        ScalarType.Int64 => NcclInt64,
        var other => throw new NotSupportedException($"NCCL reduction of {other} tensors is not supported here (float32, bfloat16, float16, float64, int64 are)."),
    };

    void Check(int result, string call)
    {
        if (result == 0) return;
        var text = Marshal.PtrToStringAnsi(_errorString(result)) ?? "unknown error";
        throw new InvalidOperationException($"{call} failed: NCCL error {result} ({text}).");
    }
}
