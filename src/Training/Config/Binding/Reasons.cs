namespace Sft.Training.Config.Binding;

/// <summary>Why a known key is ignored; reported next to its path and line.</summary>
public static class Reasons
{
    public const string Ascend = "Ascend/MindSpore runtime setting; the TorchSharp engine does not use it.";
    public const string AscendGraph = "Ascend graph-compiler setting; the TorchSharp engine does not use it.";
    public const string DistributedCheckpoint = "MindSpore distributed-checkpoint setting; checkpoints here are plain safetensors.";
    public const string MsDataset = "MindSpore dataset-pipeline setting; the data pipeline here does not use it.";
    public const string HfLoader = "Hugging Face datasets loader option; not used here.";
    public const string Inference = "inference-only setting; training does not use it.";
    public const string Profiling = "MindSpore profiler setting; not used here.";
    public const string FromConfigJson = "taken from the model folder's config.json instead.";
    public const string Float32Always = "always computed in float32 (as in Hugging Face transformers).";
    public const string RunTimeFilled = "filled in by MindFormers at run time; not used here.";
    public const string Alias = "MindFormers task wrapper around train_dataset/eval_dataset; those are read directly.";
}
