#!/usr/bin/env bash
# GPU check on one CUDA GPU with this repo installed (or src/ on PYTHONPATH). Parts (PARTS, default all, in order):
#  speed    benchmarks/bench_patents_speed.py on MiniLM with mixed precision (COMPILE=1 adds torch.compile) and on
#           the deberta-v3-small architecture (random init, the real tokenizer);
#  quality  Pearson of the lesson's input, the short `pair` input (cross-encoder) and the default bi-encoder on all
#           the real USPPPM rows (3 anchor-grouped folds, 2 epochs), with the zero-shot floor on the same folds;
#  overhead benchmarks/bench_step_overhead.py: the fold trainer's step against a bare PyTorch loop (goal: within 1.5x);
#  ddp      a 2-GPU DDP run of `kagglenlp patents train` under torchrun when two GPUs are visible;
#  toolbox  issue 16: the cross-encoder on all rows (3 grouped folds, 2 epochs, bs 64) with each competition option
#           alone and combined, side by side on the GPU (~8 min on an H200), the zero-shot floor and the bi-encoder on
#           the same folds, then blends (nnls; nnls after min-max scaling); one results.csv (results-toolbox.csv).
#           Run it alone with PARTS=toolbox (TB="base combo": only those runs; TOOLBOX_LIMIT: seconds per run).
# On the H200 lent here each part took 3-5 minutes (every benchmark variant is its own process, ~15 s to start).
# Everything lands in ${OUT:-benchmarks/out}/ (gpu.log, JSON, results.csv); each step has its own time limit, so a
# slow machine still returns what finished.
# Usage: bash benchmarks/gpu.sh    (KAGGLENLP_DATA: the shared data folder, default ../shared/data;
#        MINILM: the MiniLM model, default the `minilm` alias; PARTS="speed quality"; SMALL=1: a CPU smoke run)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-benchmarks/out}
mkdir -p "$out"
data=$(realpath "${KAGGLENLP_DATA:-../shared/data}")
minilm=${MINILM:-minilm}
py=${PYTHON:-python3}
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TQDM_DISABLE=1 KAGGLENLP_DATA=$data
log="$out/gpu.log"
if [ "${SMALL:-0}" = 1 ]; then  # CPU smoke: every step, tiny sizes
  rows=200 irows=400 steps=4 drows=100 dsteps=2 split="--max-rows 600 --folds 2" train="--epochs 1 --bs 32" ssteps=6
else
  rows=4000 irows=20000 steps=100 drows=2000 dsteps=40 split="--folds 3" train="--epochs 2 --bs 64" ssteps=40
fi
step() {  # step SECONDS COMMAND...: run it under a time limit, output into the log
  local t=$1
  shift
  echo "== $(date +%T) $*" | tee -a "$log"
  timeout "$t" "$@" 2>&1 | grep -v -e "it/s]" -e "^Loading weights" | tee -a "$log"
  echo "== exit ${PIPESTATUS[0]}" | tee -a "$log"
}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$log"
$py -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, \
'cuda', torch.cuda.is_available() and torch.cuda.get_device_name())" | tee -a "$log"

merge_results() {  # merge_results OUT IN...: the rows of results.csv files under one header (the union of columns)
  local dest=$1
  shift
  $py - "$dest" "$@" <<'PY'
import csv, sys
from kagglenlp.results_table import read_results
rows = [r for p in sys.argv[2:] for r in read_results(p)]
keys = list(dict.fromkeys(k for r in rows for k in r))
with open(sys.argv[1], "w", newline="") as f:
    w = csv.DictWriter(f, keys, restval="")
    w.writeheader()
    w.writerows(rows)
PY
}

parts=${PARTS:-speed quality overhead ddp toolbox}
has() { [[ " $parts " == *" $1 "* ]]; }
work=$(mktemp -d)  # project roots of the training runs: the fold models stay out of $out

if has speed; then  # same rows and optimizer steps for the seed recipe and the fold trainer
  compile=$([ "${COMPILE:-0}" = 1 ] && echo "--compile --timeout 150")
  step 330 $py benchmarks/bench_patents_speed.py --model "$minilm" --rows $rows --infer-rows $irows --steps $steps \
    --bs 64 $compile --json "$out/speed_minilm.json"
  step 300 $py benchmarks/bench_patents_speed.py --model deberta --rows $drows --infer-rows $((drows * 4)) \
    --steps $dsteps --bs 32 --timeout 60 --json "$out/speed_deberta.json"
fi

if has quality; then  # one project root each (separate results.csv), side by side on the GPU
  for text in seed pair; do
    KAGGLENLP_ROOT="$work/$text" step 300 $py -m kagglenlp patents train --data "$data/uspppm" --model "$minilm" \
      --arch cross --text $text $split $train --name "gpu-cross-$text" &
  done
  KAGGLENLP_ROOT="$work/bi" step 300 $py -m kagglenlp patents train --data "$data/uspppm" --model "$minilm" $split $train \
    --name gpu-bi &
  KAGGLENLP_ROOT="$work/zeroshot" step 300 $py -m kagglenlp patents zeroshot --data "$data/uspppm" \
    --model "$minilm" $split --name gpu-zeroshot &
  wait
  merge_results "$out/results.csv" "$work"/*/outputs/results.csv
fi

if has overhead; then
  step 120 $py benchmarks/bench_step_overhead.py --model "$minilm" --steps $ssteps --bs 64 --json "$out/step_minilm.json"
  step 120 $py benchmarks/bench_step_overhead.py --model deberta --steps $ssteps --bs 32 --json "$out/step_deberta.json"
fi

n=$($py -c "import torch; print(torch.cuda.device_count())")
if has ddp && [ "$n" -ge 2 ]; then  # two GPUs: the Trainer's own DDP, one process per GPU
  KAGGLENLP_ROOT="$work/ddp" step 300 torchrun --standalone --nproc_per_node=2 -m kagglenlp patents train \
    --data "$data/uspppm" --model "$minilm" --arch cross --text pair $split $train --name gpu-ddp2
  cp "$work/ddp/outputs/results.csv" "$out/results-ddp.csv"
fi
if has toolbox; then  # one project root each, all in parallel; the folds are the same (same rows, seed, splitter)
  tlim=${TOOLBOX_LIMIT:-480}
  declare -A tb  # the recipes of configs/compare/recipes.toml, table toolbox: name -> train flags
  while IFS=$'\t' read -r k flags; do tb[$k]="$flags"; done < <($py scripts/compare_recipes.py --flags toolbox)
  for k in ${TB:-${!tb[@]}}; do  # TB="base combo": only these (a smoke run on a small machine)
    # shellcheck disable=SC2086
    KAGGLENLP_ROOT="$work/tb-$k" step "$tlim" $py -m kagglenlp patents train --data "$data/uspppm" \
      --model "$minilm" ${tb[$k]} $split $train --name "tb-$k" > "$out/tb-$k.log" 2>&1 &
  done
  KAGGLENLP_ROOT="$work/tb-bi" step "$tlim" $py -m kagglenlp patents train --data "$data/uspppm" --model "$minilm" \
    $split $train --name tb-bi > "$out/tb-bi.log" 2>&1 &
  KAGGLENLP_ROOT="$work/tb-zeroshot" step "$tlim" $py -m kagglenlp patents zeroshot --data "$data/uspppm" \
    --model "$minilm" $split --name tb-zeroshot > "$out/tb-zeroshot.log" 2>&1 &
  wait
  members=""  # the finished ones among these (a run cut by its time limit is left out)
  for k in zeroshot bi base siblings fgm combo combo-seed; do
    [ -f "$work/tb-$k/outputs/tb-$k/cv.json" ] && members="$members $work/tb-$k/outputs/tb-$k"
  done
  # shellcheck disable=SC2086
  KAGGLENLP_ROOT="$work/tb-blend" step 120 $py -m kagglenlp patents blend $members --name tb-blend
  # shellcheck disable=SC2086
  KAGGLENLP_ROOT="$work/tb-blend" step 120 $py -m kagglenlp patents blend $members --scale minmax --name tb-blend-minmax
  merge_results "$out/results-toolbox.csv" "$work"/tb-*/outputs/results.csv
fi
rm -rf "$work"
echo "done: $out" | tee -a "$log"
