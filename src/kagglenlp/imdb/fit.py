"""Run a schedule of `Stage`s on a fastai `Learner` with a checkpoint after each, so a stopped run continues.

Checkpoints are `models/<prefix>_<i>_<stage>.pth` in the learner's path; per-stage metrics go to `metrics.json`
(written after every stage) and the stage's loss curve to `plots/<prefix>_<i>_<stage>.png`.
"""
import json
import time
from pathlib import Path

__all__ = ["ckpt_name", "last_done", "run_stages", "read_metrics", "write_metrics", "stage_metrics", "fp16_if_gpu"]


def ckpt_name(prefix, i, st):
    "Checkpoint name of stage `i` (`st`) of schedule `prefix`."
    return f"{prefix}_{i}_{st.name}"


def last_done(learn, prefix, stages):
    "Index of the last stage of `stages` whose checkpoint exists in `learn`'s model dir, or -1."
    mdir = Path(learn.path)/learn.model_dir
    done = [i for i, st in enumerate(stages) if (mdir/f"{ckpt_name(prefix, i, st)}.pth").exists()]
    return max(done, default=-1)


def read_metrics(exp):
    "`exp/metrics.json` as a dict (empty when absent)."
    f = Path(exp)/"metrics.json"
    return json.loads(f.read_text()) if f.exists() else {}


def write_metrics(exp, m):
    "Write dict `m` to `exp/metrics.json` atomically."
    f = Path(exp)/"metrics.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp")
    tmp.write_text(json.dumps(m, indent=1, default=float))
    tmp.replace(f)


def stage_metrics(learn):
    "Last epoch's `train_loss`, `valid_loss` and metrics of `learn` as a dict of floats."
    names = [n for n in learn.recorder.metric_names[1:] if n != "time"]
    return {n: float(v) for n, v in zip(names, learn.recorder.values[-1])}


def _plot(learn, fname):
    "Save `learn`'s last loss curve to `fname`."
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3))
    learn.recorder.plot_loss(skip_start=min(5, max(len(learn.recorder.losses) - 2, 0)), ax=ax)
    Path(fname).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(fname, dpi=80, bbox_inches="tight")
    plt.close(fig)


def fp16_if_gpu(learn):
    "Mixed precision on CUDA only (fastai's `to_fp16` fails on CPU)."
    import torch
    return learn.to_fp16() if torch.cuda.is_available() else learn


def run_stages(learn, stages, prefix, exp, log=print):
    "Fit `learn` through `stages`, resuming after the last checkpoint of `prefix`; metrics land in `exp/metrics.json`."
    start = last_done(learn, prefix, stages)
    if start >= 0:
        learn.load(ckpt_name(prefix, start, stages[start]), with_opt=False)
        log(f"{prefix}: resuming after stage {start} ({stages[start].name})")
    for i, st in enumerate(stages):
        if i <= start: continue
        learn.freeze_to(st.freeze_to)
        t0 = time.time()
        if st.epochs: learn.fit_one_cycle(st.epochs, st.lr_arg())  # 0 epochs: skip the stage (e.g. no LM at all)
        name = ckpt_name(prefix, i, st)
        learn.save(name, with_opt=False)
        m = read_metrics(exp)
        m.setdefault("stages", {})[name] = dict(stage=st.name, epochs=st.epochs, lr=st.lr, lr_div=st.lr_div,
                                               freeze_to=st.freeze_to, seconds=round(time.time() - t0, 1),
                                               **(stage_metrics(learn) if st.epochs else {}))
        write_metrics(exp, m)
        if st.epochs: _plot(learn, Path(exp)/"plots"/f"{name}.png")
        log(f"{name}: {m['stages'][name]}")
    return learn
