using Sft.Bench;

// sft-bench matmul | step: see README.md. Figures go to stdout as one JSON object per line.
try
{
    return args.FirstOrDefault() switch
    {
        "matmul" => MatmulPeak.Run(BenchOptions.Parse(args[1..], MatmulPeak.Defaults)),
        "step" => StepBench.Run(BenchOptions.Parse(args[1..], StepBench.Defaults)),
        "attention" => AttentionBench.Run(BenchOptions.Parse(args[1..], AttentionBench.Defaults)),
        "layer" => LayerBench.Run(BenchOptions.Parse(args[1..], LayerBench.Defaults)),
        "estimate" => Projection.Run(BenchOptions.Parse(args[1..], Projection.Defaults)),
        _ => Usage(),
    };
}
catch (BenchOptionException e)
{
    Console.Error.WriteLine($"sft-bench: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: sft-bench matmul [--sizes 1024,2048,4096] [--repeats 5] [--threads T] [--dtype fp32|bf16|both]
               sft-bench step --model 50m|150m|qwen2.5-0.5b --mode full|lora --dtype fp32|bf16
                              [--seq 512] [--batch 1] [--steps 3] [--warmup 1] [--threads T]
                              [--recompute LAYERS] [--lora-rank 16] [--peak-gflops G]
                              [--adamw fused|tensor] [--zero-grad none|zero]
               sft-bench estimate --model qwen2.5-7b --mode lora --dtype bf16 --seq 512 --batch 8
                              --peak-gflops 989000 --mfu 0.4 [--recompute LAYERS] [--lora-rank 16]
               sft-bench attention [--model 150m] [--dtype fp32] [--seq 512] [--batch 1] [--repeats 7] [--threads T]
               sft-bench layer [--model 150m] [--dtype fp32] [--seq 512] [--repeats 9] [--threads T] [--lora R]
        """);
    return 2;
}
