"""Benchmark: what the patents pipeline's two data choices buy, each against its baseline in the same run.

1. Dynamic padding (`DataCollatorWithPadding`, pad per batch) vs padding every row to `max_len` tokens:
   forward+backward time of MiniLM over the same batches of real USPPPM inputs.
2. Tokenizing once for all folds vs tokenizing train and test again in every fold.

Prints each measurement and the ratio (baseline / ours; above 1 means ours is faster).
    python benchmarks/bench_patents_padding.py [--rows 2048] [--bs 32] [--folds 5]
"""
import argparse
import time

import numpy as np
import pandas as pd
import torch

from kagglenlp.paths import shared_data
from kagglenlp.patents.demo import demo_frames
from kagglenlp.patents.model import load_model, load_tokenizer
from kagglenlp.patents.text import make_inputs


def timed(f, repeat=1):
    "Best wall time of `repeat` calls of `f`."
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    return best


def train_pass(model, batches):
    "One forward+backward over `batches` (no optimizer step: we time the model's work)."
    model.train()
    for b in batches:
        out = model(**b); out.loss.backward(); model.zero_grad(set_to_none=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=256); p.add_argument("--bs", type=int, default=32)
    p.add_argument("--max-len", type=int, default=256); p.add_argument("--folds", type=int, default=5)
    a = p.parse_args()
    d = shared_data()
    df = pd.read_csv(d/"uspppm"/"train.csv").sample(a.rows, random_state=0) if d else demo_frames()[0]
    src = "real USPPPM train" if d else "generated demo"
    tok, model = load_tokenizer("minilm"), load_model("minilm")
    texts = make_inputs(df, "seed")
    labels = torch.tensor(df["score"].values, dtype=torch.float32)
    torch.manual_seed(0)

    def batches(pad):
        out = []
        for i in range(0, len(texts), a.bs):
            enc = tok(texts[i:i + a.bs], truncation=True, max_length=a.max_len, padding=pad, return_tensors="pt")
            out.append({**enc, "labels": labels[i:i + a.bs]})
        return out
    dyn, fixed = batches("longest"), batches("max_length")
    ntok = lambda bs: sum(int(b["input_ids"].numel()) for b in bs)
    print(f"data: {len(texts)} {src} rows, MiniLM-L6, bs {a.bs}, {torch.get_num_threads()} threads")
    t_dyn, t_fix = timed(lambda: train_pass(model, dyn)), timed(lambda: train_pass(model, fixed))
    print(f"padding  dynamic: {t_dyn:.2f}s ({ntok(dyn)} tokens)   to max_len {a.max_len}: {t_fix:.2f}s ({ntok(fixed)} tokens)"
          f"   ratio {t_fix / t_dyn:.1f}x")

    tok_all = lambda: tok(texts, truncation=True, max_length=a.max_len)
    t_once = timed(tok_all, 3)
    t_per_fold = timed(lambda: [tok_all() for _ in range(a.folds)], 1)
    print(f"tokenize once: {t_once:.3f}s   again in each of {a.folds} folds: {t_per_fold:.3f}s   ratio {t_per_fold / t_once:.1f}x")


if __name__ == "__main__": main()
