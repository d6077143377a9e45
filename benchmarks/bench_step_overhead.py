"""Benchmark: one optimizer step of kagglenlp's fold trainer against a bare PyTorch forward/backward loop.

Both train the same model on the same real rows in the same batches (bs rows, sorted by length as the fold
trainer's length-grouped sampler would), with the same precision (bf16/fp16 autocast on a GPU, fp32 on the CPU) and
fused AdamW (the Trainer's default). The ratio says what HF `Trainer` costs on top of the arithmetic (goal: within
1.5x).

    python benchmarks/bench_step_overhead.py [--model minilm|deberta|FOLDER] [--steps 30] [--bs 32] [--json out.json]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_patents_speed import make_model_dir, real_rows


def batches(tok, texts, labels, bs, steps):
    "`steps` padded batches of `bs` rows, length-sorted within each chunk of 50 batches."
    enc = tok(list(texts), truncation=True, max_length=256)
    order = np.argsort([len(x) for x in enc["input_ids"]], kind="stable")
    out = []
    for i in range(steps):
        idx = order[(i * bs) % len(order) : (i * bs) % len(order) + bs]
        b = tok.pad({k: [enc[k][j] for j in idx] for k in enc}, return_tensors="pt")
        b["labels"] = __import__("torch").tensor(labels[idx], dtype=__import__("torch").float32)
        out.append(b)
    return out


def bare_loop(model, bs_list, device):
    "Seconds per step of a plain forward/backward/AdamW loop."
    import torch

    from kagglenlp.patents.models.infer import autocast

    model.train().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=8e-5, fused=True)  # the Trainer's default (adamw_torch_fused)
    scaler = torch.amp.GradScaler(enabled=device.type == "cuda" and autocast(device).fast_dtype == torch.float16)
    times = []
    for b in bs_list:
        b = {k: v.to(device) for k, v in b.items()}
        t0 = time.perf_counter()
        with autocast(device):
            loss = model(**b).loss
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[3:]))


def trainer_loop(model, tok, bs_list, out):
    "Seconds per step of the fold trainer's `Trainer` over the same batches (median of steps after warm-up)."
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback

    from kagglenlp.patents.config import PatentsConfig
    from kagglenlp.patents.trainer import make_trainer, training_arguments

    rows = [
        {k: v[i].tolist() for k, v in b.items() if k != "labels"} | {"labels": float(b["labels"][i])}
        for b in bs_list
        for i in range(len(b["labels"]))
    ]
    ds = Dataset.from_list(rows)
    times, t = [], {}

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            t["t0"] = time.perf_counter()

        def on_step_end(self, *a, **k):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t["t0"])

    bs = len(bs_list[0]["labels"])
    cfg = PatentsConfig(data=".", bs=bs, max_steps=len(bs_list))
    args = training_arguments(cfg, out, train_sampling_strategy="sequential", logging_strategy="no", disable_tqdm=True)
    trainer = make_trainer(model, tok, args, ds)
    trainer.add_callback(Clock())
    trainer.train()
    return float(np.median(times[3:]))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="minilm", help="minilm, deberta (random init, real shapes) or a model folder")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--json")
    a = p.parse_args()
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    df = real_rows(a.bs * a.steps)
    with tempfile.TemporaryDirectory() as tmp:
        md = make_model_dir(a.model, Path(tmp) / "model")
        tok = AutoTokenizer.from_pretrained(md)
        from kagglenlp.patents.inputs import make_inputs

        bl = batches(tok, make_inputs(df, "seed"), df["score"].values, a.bs, a.steps)
        torch.manual_seed(0)
        bare = bare_loop(AutoModelForSequenceClassification.from_pretrained(md, num_labels=1), bl, device)
        torch.manual_seed(0)
        ours = trainer_loop(AutoModelForSequenceClassification.from_pretrained(md, num_labels=1), tok, bl, tmp)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    res = dict(
        model=a.model,
        device=name,
        bs=a.bs,
        steps=a.steps,
        bare_s_per_step=bare,
        trainer_s_per_step=ours,
        ratio=ours / bare,
    )
    print(
        f"| {a.model} | {name} | bs {a.bs} | bare loop {bare * 1000:.1f} ms/step | fold trainer "
        f"{ours * 1000:.1f} ms/step | **{ours / bare:.2f}x** |"
    )
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
