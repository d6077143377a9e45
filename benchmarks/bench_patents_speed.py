"""Benchmark: kagglenlp's fold trainer and inference against what a user would otherwise run, in one run, as ratios.

Baselines are the seed's own recipe (`../shared/reference/seed-fastai-nlp-notes.md`, renamed arguments adapted for
transformers 5, nothing else): its `Trainer` on the lesson's input strings for training, and `Trainer.predict` for
inference. Each variant runs in its own subprocess on the same real USPPPM rows and the same model, so its peak
memory (RSS; CUDA max allocated on a GPU) is its own:

- train: samples/s of `trainer.train()` for the same rows and the same number of optimizer steps;
- train: the fold trainer exactly as `fold.train_fold` builds it (the cross-encoder recipe's backbone + head and
  head trainer) against the seed's `Trainer` on `AutoModelForSequenceClassification`;
- infer: rows/s of `Trainer.predict` vs `kagglenlp.patents.models.infer.predict_texts` on the recipe's model and the
  same rows, and of the whole `kagglenlp patents predict` command (process start and model loading included) on an
  experiment written by real `patents train` (one step per fold).

Each is measured on the lesson's input string (`--text seed`: the code alone) and on kagglenlp's short `pair`
input (`anchor [SEP] target [SEP] context`: the same content in about half the tokens); `docs/results/` gives the
Pearson of each input beside its speed. `--compile` adds the fold trainer with `torch.compile`. Each in-process
variant also records the CPU seconds of its timed section (`cpu_s` in the JSON, all threads): on a shared machine
wall seconds follow the load, CPU seconds much less.

    python benchmarks/bench_patents_speed.py [--model minilm|deberta|FOLDER] [--rows 2000] [--steps 40]
        [--infer-rows N] [--compile] [--json out.json]

`deberta` is the real deberta-v3-small architecture and tokenizer from ../shared/data, randomly initialised (no
weights are available here). Prints a table; nothing is asserted.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve()


def peak_mb():
    "Peak RSS of this process in MB (and CUDA max allocated when on a GPU)."
    import torch

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
    return rss, gpu


def real_rows(n, seed=0):
    "`n` real USPPPM train rows (a seeded sample) from the shared data."
    from kagglenlp.paths import shared_data

    d = shared_data()
    if d is None:
        sys.exit("needs ../shared/data (or KAGGLENLP_DATA): the real USPPPM rows")
    df = pd.read_csv(d / "uspppm" / "train.csv")
    return df.sample(n=min(n, len(df)), random_state=seed).reset_index(drop=True)


def make_model_dir(kind, dest):
    "A model folder (weights + tokenizer) for `kind`: MiniLM, deberta-v3-small randomly initialised, or a folder."
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from kagglenlp.patents.models.backbone import resolve_model
    from kagglenlp.paths import shared_data

    if kind != "deberta":
        src = resolve_model(kind)
        model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=1, dtype="float32")
    else:
        src = shared_data() / "deberta-v3-small-tokenizer"
        import torch

        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_config(AutoConfig.from_pretrained(src, num_labels=1))
    model.save_pretrained(dest)
    AutoTokenizer.from_pretrained(src).save_pretrained(dest)
    return dest


def seed_inputs(df):
    "The lesson's input column."
    return "TEXT1: " + df.context + "; TEXT2: " + df.target + "; ANC1: " + df.anchor


def seed_trainer(model_dir, df, bs, steps, out):
    "The seed's `Trainer`, as written in the lesson (transformers 5 names; fp16 only where it can run)."
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    tokz = AutoTokenizer.from_pretrained(model_dir)
    df = df.assign(input=seed_inputs(df))
    ds = Dataset.from_pandas(df).map(lambda x: tokz(x["input"]), batched=True).rename_columns({"score": "labels"})
    args = TrainingArguments(
        out,
        learning_rate=8e-5,
        warmup_steps=0.1,
        lr_scheduler_type="cosine",
        fp16=torch.cuda.is_available(),
        eval_strategy="no",
        per_device_train_batch_size=bs,
        per_device_eval_batch_size=bs * 2,
        num_train_epochs=4,
        max_steps=steps,
        weight_decay=0.01,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
    )
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
    return Trainer(model, args, train_dataset=ds, processing_class=tokz), ds


def ours_trainer(model_dir, df, bs, steps, out, text="seed", compile=False):
    """kagglenlp's fold trainer on the same rows (input format `text`), built as `fold.train_fold` builds it: the
    cross-encoder recipe's inputs (`prepare`), model (`build`, backbone + head) and head trainer (`trainer`)."""
    from kagglenlp.patents.config import PatentsConfig
    from kagglenlp.patents.models.backbone import load_tokenizer
    from kagglenlp.patents.trainer import training_arguments

    cfg = PatentsConfig(data=".", model=model_dir, bs=bs, max_steps=steps, arch="cross", text=text, compile=compile)
    recipe, tok = cfg.recipe, load_tokenizer(model_dir)
    df = df.assign(fold=0)  # every row trains (the recipe selects the rows of `m_trn`)
    inputs = recipe.prepare(cfg, tok, df, df.iloc[:1], recipe.fold_format(cfg, None))
    args = training_arguments(cfg, out, disable_tqdm=True, logging_strategy="no")
    everything, none = np.ones(len(df), bool), np.zeros(len(df), bool)
    return recipe.trainer(cfg, recipe.build(cfg), tok, inputs, everything, none, args), inputs["ds"]


def step_clock(trainer):
    "A list that gets the time at the end of every optimizer step of `trainer` (CUDA synchronised)."
    import torch
    from transformers import TrainerCallback

    stamps = []

    class Clock(TrainerCallback):
        def on_step_end(self, *args, **kwargs):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            stamps.append(time.perf_counter())

    trainer.add_callback(Clock())
    return stamps


def one(variant, model_dir, rows, bs, steps, data_dir=None):
    "Run one variant in this process; returns its measurements."
    df = real_rows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        if variant.startswith("train-"):
            if variant == "train-seed":
                trainer, _ = seed_trainer(model_dir, df, bs, steps, tmp)
            else:
                text = "pair" if "pair" in variant else "seed"
                trainer, _ = ours_trainer(model_dir, df, bs, steps, tmp, text, compile="compile" in variant)
            stamps = step_clock(trainer)
            t0, c0 = time.perf_counter(), time.process_time()
            trainer.train()
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            steady = float(np.median(np.diff(stamps)[len(stamps) // 4 :]))  # after warm-up (and compilation)
            return dict(seconds=secs, cpu_s=cpu, per_s=steps * bs / secs, steady_per_s=bs / steady, unit="samples/s")
        if variant == "infer-trainer":
            trainer, ds = seed_trainer(model_dir, df, bs, 1, tmp)
            ds = ds.remove_columns(
                [c for c in ds.column_names if c not in ("input_ids", "attention_mask", "token_type_ids")]
            )
            t0, c0 = time.perf_counter(), time.process_time()
            preds = trainer.predict(ds).predictions.astype(float).reshape(-1)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        elif variant in ("infer-ours", "infer-ours-pair"):  # the cross-encoder recipe's model and batching
            from kagglenlp.patents.config import PatentsConfig
            from kagglenlp.patents.inputs import make_inputs, model_sep
            from kagglenlp.patents.models.backbone import load_tokenizer
            from kagglenlp.patents.models.infer import predict_texts

            cfg = PatentsConfig(data=".", model=model_dir, arch="cross")
            tok, model = load_tokenizer(model_dir), cfg.recipe.build(cfg)
            texts = seed_inputs(df) if variant == "infer-ours" else make_inputs(df, "pair", sep=model_sep(tok))
            t0, c0 = time.perf_counter(), time.process_time()
            preds = predict_texts(model, tok, texts, bs=bs * 2)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        elif variant == "infer-bi":  # the default bi-encoder: each distinct phrase embedded once, cosine per pair
            from kagglenlp.patents.config import PatentsConfig
            from kagglenlp.patents.inputs import pair_texts
            from kagglenlp.patents.models.backbone import load_tokenizer
            from kagglenlp.patents.models.bi import predict_pairs

            cfg = PatentsConfig(data=".", model=model_dir, arch="bi")
            tok, model = load_tokenizer(model_dir), cfg.recipe.build(cfg)
            t0, c0 = time.perf_counter(), time.process_time()
            a, b = pair_texts(df)
            preds = predict_pairs(model, tok, a, b, bs=bs * 2)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        np.save(Path(data_dir) / f"{variant}.npy", preds)
        return dict(seconds=secs, cpu_s=cpu, per_s=len(df) / secs, unit="rows/s")


def predict_command(model_dir, rows, bs, work, folds=2):
    """Time the whole `kagglenlp patents predict` command on an experiment trained for real by `patents train`
    (`--arch cross --text seed`, `folds` folds of one step each on `rows` real rows): every fold predicts every
    row, so the rate is rows x folds per second, comparable with `Trainer.predict` of one model."""
    df = real_rows(rows)
    data = work / "data"
    data.mkdir()
    df.to_csv(data / "train.csv", index=False)
    df.drop(columns="score").to_csv(data / "test.csv", index=False)
    df[["id"]].assign(score=0.0).to_csv(data / "sample_submission.csv", index=False)
    env = {**os.environ, "KAGGLENLP_ROOT": str(work / "root")}
    train = ["patents", "train", "--data", str(data), "--model", str(model_dir), "--arch", "cross", "--text", "seed"]
    train += ["--folds", str(folds), "--max-steps", "1", "--bs", str(bs), "--name", "bench"]
    subprocess.run([sys.executable, "-m", "kagglenlp", *train], check=True, capture_output=True, env=env, cwd=work)
    argv = [
        "kagglenlp",
        "patents",
        "predict",
        "--data",
        str(data),
        "--models",
        str(work / "root" / "outputs" / "bench"),
    ]
    argv += ["--out", str(work / "sub.csv"), "--bs", str(bs * 2)]
    code = (
        f"import resource, runpy, sys\nsys.argv = {argv!r}\n"
        "try:\n    runpy.run_module('kagglenlp', run_name='__main__')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=work, env=env)
    secs = time.perf_counter() - t0
    rss = float(out.stdout.strip().splitlines()[-1])  # the command's own peak (RUSAGE_CHILDREN mixes in other children)
    return dict(seconds=secs, per_s=len(df) * folds / secs, unit="rows x folds/s", rss_mb=rss, folds=folds)


def mean_tokens(model_dir, rows):
    "Mean tokens per row of the lesson's input and of the `pair` input for `rows` real rows."
    from kagglenlp.patents.inputs import make_inputs, model_sep
    from kagglenlp.patents.models.backbone import load_tokenizer

    tok, df = load_tokenizer(model_dir), real_rows(rows)
    n = lambda texts: float(np.mean([len(x) for x in tok(list(texts))["input_ids"]]))  # noqa: E731
    return {"seed": n(seed_inputs(df)), "pair": n(make_inputs(df, "pair", sep=model_sep(tok)))}


# (row label, baseline variant, kagglenlp variant)
TABLE = [
    ("training samples/s, same input (the lesson's)", "train-seed", "train-ours"),
    ("training samples/s, kagglenlp's `pair` input", "train-seed", "train-ours-pair"),
    ("training samples/s, `pair` + `torch.compile`", "train-seed", "train-ours-compile-pair"),
    ("inference rows/s, same input (the lesson's)", "infer-trainer", "infer-ours"),
    ("inference rows/s, `pair` input", "infer-trainer", "infer-ours-pair"),
    ("inference rows/s, whole `patents predict` command (lesson's input)", "infer-trainer", "predict-command"),
    ("inference rows/s, the default bi-encoder (phrases cached)", "infer-trainer", "infer-bi"),
]


def summarize(res):
    "Add the ratios of every TABLE row measured so far to `res`."
    res["ratios"] = {f"{o} / {b}": res[o]["per_s"] / res[b]["per_s"] for _, b, o in TABLE if o in res and b in res}
    return res


def print_table(res):
    "The markdown table of `res` (as in `docs/results/`)."
    s = res["setup"]
    print(
        f"\n{s['model']}, {s['rows']} real rows (inference {s['infer_rows']}), bs {s['bs']}, {s['steps']} steps, "
        f"{s['device']}; mean tokens per row: lesson's input {s['tokens']['seed']:.1f}, pair {s['tokens']['pair']:.1f}"
    )
    print("| what | baseline | kagglenlp | ratio | peak memory MB, baseline / kagglenlp |\n|---|---|---|---|---|")
    mem = lambda v: f"{v['gpu_mb']:.0f} GPU" if v.get("gpu_mb") else f"{v['rss_mb']:.0f} RSS"  # noqa: E731
    for what, b, o in TABLE:
        if o in res and b in res:
            r = res[o]["per_s"] / res[b]["per_s"]
            if "steady_per_s" in res[o]:  # training: also the step rate after warm-up (and compilation)
                r = f"**{r:.2f}x** (after warm-up **{res[o]['steady_per_s'] / res[b]['steady_per_s']:.2f}x**)"
            else:
                r = f"**{r:.2f}x**"
            print(f"| {what} | {res[b]['per_s']:.1f} | {res[o]['per_s']:.1f} | {r} | {mem(res[b])} / {mem(res[o])} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="minilm", help="minilm, deberta (random init, real shapes) or a model folder")
    p.add_argument("--rows", type=int, default=2000, help="real rows for training")
    p.add_argument("--infer-rows", type=int, default=None, help="real rows for inference (default: --rows)")
    p.add_argument("--steps", type=int, default=40, help="optimizer steps for both trainers")
    p.add_argument("--bs", type=int, default=32, help="train batch size (inference uses twice this)")
    p.add_argument("--compile", action="store_true", help="also time the fold trainer with torch.compile")
    p.add_argument("--timeout", type=float, default=None, help="give up on a variant after this many seconds")
    p.add_argument("--json", help="write the results here (after every variant)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--model-dir", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:  # a child: one variant, JSON on the last line
        res = one(a.one, a.model_dir, a.rows, a.bs, a.steps, a.data_dir)
        res["rss_mb"], res["gpu_mb"] = peak_mb()
        print(json.dumps(res))
        return
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores)"
    infer_rows = a.infer_rows or a.rows
    train = ["train-seed", "train-ours", "train-ours-pair"]
    infer = ["infer-trainer", "infer-ours", "infer-ours-pair", "infer-bi"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = str(make_model_dir(a.model, work / "model"))
        setup = dict(model=a.model, rows=a.rows, infer_rows=infer_rows, steps=a.steps, bs=a.bs, device=device)
        res = {"setup": {**setup, "torch": torch.__version__, "tokens": mean_tokens(model_dir, infer_rows)}}

        def child(v):
            "Run variant `v` in its own process; its measurements, or None when it failed or ran out of time."
            rows = str(a.rows if v.startswith("train") else infer_rows)
            cmd = [sys.executable, str(HERE), "--one", v, "--model-dir", model_dir, "--data-dir", tmp, "--rows", rows]
            try:
                out = subprocess.run(
                    cmd + ["--steps", str(a.steps), "--bs", str(a.bs)],
                    capture_output=True,
                    text=True,
                    timeout=a.timeout,
                )
            except subprocess.TimeoutExpired:
                return print(f"{v}: stopped after {a.timeout} s", flush=True)
            if out.returncode:
                return print(f"{v}: failed (exit {out.returncode}):\n{out.stderr[-3000:]}", flush=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{v:24s} {r['per_s']:8.1f} {r['unit']}  peak RSS {r['rss_mb']:.0f} MB", flush=True)
            return r

        def save():
            if a.json:
                Path(a.json).write_text(json.dumps(summarize(res), indent=2))

        for v in train + infer:
            if (r := child(v)) is not None:
                res[v] = r
                save()
        try:
            res["predict-command"] = predict_command(model_dir, infer_rows, a.bs, work)
        except subprocess.CalledProcessError as e:
            print(f"predict-command: failed (exit {e.returncode}):\n{e.stderr[-3000:]}", flush=True)
        save()
        if a.compile and (r := child("train-ours-compile-pair")) is not None:  # last: compiling can run long
            res["train-ours-compile-pair"] = r
    save()
    print_table(res)


if __name__ == "__main__":
    main()
