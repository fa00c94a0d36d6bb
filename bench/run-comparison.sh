#!/usr/bin/env bash
# One command for the side-by-side comparison: builds Sft.Bench (Release), measures the matmul peak in
# both libraries, then runs every configuration for the engine and for PyTorch eager in turn (one process
# at a time, the same thread count), and prints one table. Raw JSON lines go to $RESULTS.
#   THREADS=2 STEPS=3 WARMUP=1 bench/run-comparison.sh
#   ONLY='150m lora fp32|50m lora fp32' bench/run-comparison.sh    (only the configs matching this regex)
#   ALLOCATOR=jemalloc bench/run-comparison.sh                      (both sides under that allocator: bench/allocator.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-$(nproc)}
STEPS=${STEPS:-3}
WARMUP=${WARMUP:-1}
RESULTS=${RESULTS:-bench/results/comparison-$(date +%Y%m%d-%H%M%S).jsonl}
PYTHON=/usr/bin/python3          # Debian's python3-torch, not a pyenv python on PATH
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp

# The PyTorch side: Debian's python3-torch, with OpenBLAS (Debian's default libblas is the slow
# reference BLAS, which would make the baseline a straw man).
if ! $PYTHON -c 'import torch' 2>/dev/null || [ ! -e "$OPENBLAS/libblas.so.3" ]; then
  echo "installing python3-torch and libopenblas0-openmp (apt)..." >&2
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch libopenblas0-openmp >&2
fi

source bench/allocator.sh
dotnet build -c Release bench/Sft.Bench -v quiet -nologo >&2
ENGINE=(env "${ALLOC_ENV[@]}" bench/Sft.Bench/bin/Release/net10.0/Sft.Bench)
# OpenBLAS 0.3.21 does not know this CPU generation and falls back to SSE3 ("Prescott") kernels, ~4x
# slower; name the newest kernel set the CPU supports.
CORETYPE=$(grep -qw avx512f /proc/cpuinfo && echo SkylakeX || (grep -qw avx2 /proc/cpuinfo && echo Haswell || echo ""))
TORCH=(env "${ALLOC_ENV[@]}" LD_LIBRARY_PATH=$OPENBLAS OMP_NUM_THREADS=$THREADS ${CORETYPE:+OPENBLAS_CORETYPE=$CORETYPE} $PYTHON bench/pytorch_eager.py)

mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg); threads $THREADS; allocator $ALLOCATOR" >&2

"${ENGINE[@]}" matmul --threads "$THREADS" | tee -a "$RESULTS" >&2
"${TORCH[@]}" matmul --threads "$THREADS" | tee -a "$RESULTS" >&2
# MFU is against the machine's measured peak: the better of the two libraries per dtype.
peak() { $PYTHON -c "import json,sys; print(max(json.loads(l)['peak_gflops'] for l in open('$RESULTS') if '\"matmul\"' in l and '\"$1\"' in l))"; }
PEAK_FP32=$(peak fp32)
PEAK_BF16=$(peak bf16)

# model mode dtype batch steps: batch 1 x seq 512 keeps the whole run well under 30 minutes on 2 cores;
# Qwen2.5-0.5B (real shape, 151,936 vocab) runs once with LoRA in fp32, two timed steps.
CONFIGS=(
  "50m full fp32 1 $STEPS"   "50m lora fp32 1 $STEPS"   "50m full bf16 1 $STEPS"   "50m lora bf16 1 $STEPS"
  "150m full fp32 1 $STEPS"  "150m lora fp32 1 $STEPS"  "150m full bf16 1 $STEPS"  "150m lora bf16 1 $STEPS"
  "qwen2.5-0.5b lora fp32 1 2"
)
for config in "${CONFIGS[@]}"; do
  if [ -n "${ONLY:-}" ] && ! [[ "$config" =~ $ONLY ]]; then continue; fi
  read -r model mode dtype batch steps <<< "$config"
  peak_gflops=$([ "$dtype" = fp32 ] && echo "$PEAK_FP32" || echo "$PEAK_BF16")
  args=(step --model "$model" --mode "$mode" --dtype "$dtype" --seq 512 --batch "$batch" --steps "$steps"
        --warmup "$WARMUP" --threads "$THREADS" --peak-gflops "$peak_gflops")
  echo "== $config (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  "${ENGINE[@]}" "${args[@]}" | tee -a "$RESULTS" >&2
  "${TORCH[@]}" "${args[@]}" | tee -a "$RESULTS" >&2
done

$PYTHON bench/compare_table.py "$RESULTS"
echo "raw figures: $RESULTS" >&2
