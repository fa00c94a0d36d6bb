namespace Sft.Web.Live;

/// <summary>The names of stored metric points (charts and the metrics endpoint use these).</summary>
public static class MetricNames
{
    public const string Loss = "loss";
    public const string LearningRate = "learning_rate";
    public const string GradNorm = "grad_norm";
    public const string Tokens = "tokens";
    public const string TokensPerSecond = "tokens_per_second";
    public const string SamplesPerSecond = "samples_per_second";
    public const string StepSeconds = "step_seconds";
    public const string MemoryRss = "memory_rss";
    public const string MemoryPeakRss = "memory_peak_rss";
    public const string GpuAllocated = "gpu_allocated";
    public const string GpuReserved = "gpu_reserved";
    public const string EvalLoss = "eval_loss";
    public const string EvalPerplexity = "eval_perplexity";
}
