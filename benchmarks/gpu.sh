#!/usr/bin/env bash
# GPU check (prepared to run in a few minutes on a machine with a CUDA GPU and this repo installed):
# the speed benchmarks with mixed precision, the Trainer's step time against a bare PyTorch loop, and a 2-GPU DDP run
# of the patents CLI when two GPUs are visible. Results land in ${OUT:-benchmarks/out}/ as JSON plus a log.
# Usage: bash benchmarks/gpu.sh            (needs ../shared/data or KAGGLENLP_DATA for the real rows)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-benchmarks/out}; mkdir -p "$out"
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$out/gpu.txt"
for m in minilm deberta; do
  python benchmarks/bench_patents_speed.py --model $m --rows 4000 --steps 100 --bs 64 --json "$out/speed_$m.json"
  python benchmarks/bench_step_overhead.py --model $m --steps 40 --bs 64 --json "$out/step_$m.json"
done 2>&1 | tee "$out/bench.log"
n=$(python -c "import torch; print(torch.cuda.device_count())")
if [ "$n" -ge 2 ]; then
  tmp=$(mktemp -d); python -c "from kagglenlp.patents.demo import write_demo; write_demo('$tmp/demo')"
  KAGGLENLP_ROOT=$tmp torchrun --standalone --nproc_per_node=2 -m kagglenlp patents train --data "$tmp/demo" \
    --model minilm --folds 2 --epochs 2 --bs 16 --name ddp2 2>&1 | tee "$out/ddp.log"
  cp "$tmp/outputs/ddp2/cv.json" "$out/ddp_cv.json"
fi
echo "done: $out"
