#!/usr/bin/env bash
# The levers of issue 7, measured one at a time on the engine (same model, batch, threads; one process
# at a time). Each run is preceded by a {"kind":"lever"} line naming it; lever_table.py prints the table.
#   THREADS=2 bench/levers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-$(nproc)}
RESULTS=${RESULTS:-bench/results/levers-$(date +%Y%m%d-%H%M%S).jsonl}
dotnet build -c Release bench/Sft.Bench -v quiet -nologo >&2
ENGINE=bench/Sft.Bench/bin/Release/net10.0/Sft.Bench
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
"$ENGINE" matmul --threads "$THREADS" --sizes 2048,4096 --repeats 5 | tee -a "$RESULTS" >&2
PEAK=$(/usr/bin/python3 -c "import json; print(max(json.loads(l)['peak_gflops'] for l in open('$RESULTS') if '\"fp32\"' in l))")

run() {   # run LEVER SETTING [ENV=VALUE ...] -- ARGS...
  local lever=$1 setting=$2; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  echo "{\"kind\": \"lever\", \"lever\": \"$lever\", \"setting\": \"$setting\", \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\"}" >> "$RESULTS"
  echo "== $lever: $setting" >&2
  env "${envs[@]}" X=1 "$ENGINE" step --threads "$THREADS" --steps 3 --warmup 1 --peak-gflops "$PEAK" "$@" | tee -a "$RESULTS" >&2
}
FULL=(--model 150m --mode full --dtype fp32)
LORA=(--model 150m --mode lora --dtype fp32)

run "AdamW" "fused one-pass CPU kernel" -- "${FULL[@]}" --adamw fused
run "AdamW" "tensor ops (8 passes)" -- "${FULL[@]}" --adamw tensor
run "gradients after the step" "set to none" -- "${FULL[@]}" --zero-grad none
run "gradients after the step" "zeroed in place" -- "${FULL[@]}" --zero-grad zero
run "bf16 matmul (50m full bf16)" "widened to fp32" SFT_BF16_MATMUL=widen -- --model 50m --mode full --dtype bf16
run "bf16 matmul (50m full bf16)" "libtorch bf16 kernels" SFT_BF16_MATMUL=native -- --model 50m --mode full --dtype bf16
run "threads" "1 thread" -- "${FULL[@]}" --threads 1
run "threads" "2 threads" -- "${FULL[@]}" --threads 2
run "threads" "2 threads, OMP_WAIT_POLICY=PASSIVE" OMP_WAIT_POLICY=PASSIVE -- "${FULL[@]}" --threads 2
run "allocator" "glibc default" -- "${FULL[@]}"
run "allocator" "fixed 128 KiB mmap threshold" MALLOC_MMAP_THRESHOLD_=131072 -- "${FULL[@]}"
run "recompute (LoRA)" "none" -- "${LORA[@]}" --recompute 0
run "recompute (LoRA)" "6 of 12 layers" -- "${LORA[@]}" --recompute 6
run "recompute (LoRA)" "all 12 layers" -- "${LORA[@]}" --recompute 12
run "recompute (full)" "all 12 layers" -- "${FULL[@]}" --recompute 12
for seq in 512 2048; do
  "$ENGINE" attention --model 150m --dtype fp32 --seq $seq --threads "$THREADS" | tee -a "$RESULTS" >&2
done
/usr/bin/python3 bench/lever_table.py "$RESULTS"
echo "raw figures: $RESULTS" >&2
