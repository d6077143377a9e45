"""Run a schedule of `Stage`s on a fastai `Learner` with a checkpoint after each, so a stopped run continues.

Checkpoints are `models/<prefix>_<i>_<stage>.pth` in the learner's path, each written atomically (a run killed
while saving leaves no half checkpoint to resume from); per-stage metrics go to `metrics.json` (written after every
stage) and the stage's loss curve to `plots/<prefix>_<i>_<stage>.png` (drawn on its own `Figure`, so importing
this module never changes a notebook's matplotlib backend).
"""

import time
from pathlib import Path

from ..files import atomic_path, read_json, write_json

__all__ = [
    "ckpt_name",
    "last_done",
    "save_checkpoint",
    "export_learner",
    "run_stages",
    "read_metrics",
    "write_metrics",
    "stage_metrics",
    "plot_loss",
    "fp16_if_gpu",
]


def ckpt_name(prefix, i, st):
    "Checkpoint name of stage `i` (`st`) of schedule `prefix`."
    return f"{prefix}_{i}_{st.name}"


def last_done(learn, prefix, stages):
    "Index of the last stage of `stages` whose checkpoint exists in `learn`'s model dir, or -1."
    mdir = Path(learn.path) / learn.model_dir
    done = [i for i, st in enumerate(stages) if (mdir / f"{ckpt_name(prefix, i, st)}.pth").exists()]
    return max(done, default=-1)


def save_checkpoint(learn, name):
    "Save `learn`'s weights (no optimizer) as `models/<name>.pth` atomically, as `learn.load(name)` reads them."
    from fastai.learner import save_model

    with atomic_path(Path(learn.path) / learn.model_dir / f"{name}.pth") as tmp:
        save_model(tmp, learn.model, None, with_opt=False)


def export_learner(learn, fname):
    "`learn.export()` to `fname` atomically (a killed export leaves the previous file or none)."
    with atomic_path(Path(fname).resolve()) as tmp:
        learn.export(tmp)
    return Path(fname)


def read_metrics(exp):
    "`exp/metrics.json` as a dict (empty when absent)."
    f = Path(exp) / "metrics.json"
    return read_json(f) if f.exists() else {}


def write_metrics(exp, m):
    "Write dict `m` to `exp/metrics.json` atomically."
    return write_json(m, Path(exp) / "metrics.json")


def stage_metrics(learn):
    "Last epoch's `train_loss`, `valid_loss` and metrics of `learn` as a dict of floats."
    names = [n for n in learn.recorder.metric_names[1:] if n != "time"]
    return {n: None if v is None else float(v) for n, v in zip(names, learn.recorder.values[-1])}


def plot_loss(learn, fname):
    "Save `learn`'s last loss curve to PNG `fname` (object-oriented matplotlib: no pyplot, no backend switch)."
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3))
    FigureCanvasAgg(fig)
    learn.recorder.plot_loss(skip_start=min(5, max(len(learn.recorder.losses) - 2, 0)), ax=fig.add_subplot())
    with atomic_path(fname) as tmp:
        fig.savefig(tmp, format="png", dpi=80, bbox_inches="tight")
    return Path(fname)


def fp16_if_gpu(learn):
    "Mixed precision on CUDA only (fastai's `to_fp16` fails on CPU)."
    import torch

    return learn.to_fp16() if torch.cuda.is_available() else learn


def run_stages(learn, stages, prefix, exp, log=print):
    """Fit `learn` through `stages`, resuming after the last checkpoint of `prefix`; metrics land in
    `exp/metrics.json`."""
    start = last_done(learn, prefix, stages)
    if start >= 0:
        learn.load(ckpt_name(prefix, start, stages[start]), with_opt=False)
        log(f"{prefix}: resuming after stage {start} ({stages[start].name})")
    for i, st in enumerate(stages):
        if i <= start:
            continue
        learn.freeze_to(st.freeze_to)
        t0 = time.time()
        if st.epochs:  # 0 epochs: skip the stage (e.g. no LM at all)
            learn.fit_one_cycle(st.epochs, st.lr_arg())
        name = ckpt_name(prefix, i, st)
        m = read_metrics(exp)
        m.setdefault("stages", {})[name] = dict(
            stage=st.name,
            epochs=st.epochs,
            lr=st.lr,
            lr_div=st.lr_div,
            freeze_to=st.freeze_to,
            seconds=round(time.time() - t0, 1),
            **(stage_metrics(learn) if st.epochs else {}),
        )
        write_metrics(exp, m)
        if st.epochs:
            plot_loss(learn, Path(exp) / "plots" / f"{name}.png")
        save_checkpoint(learn, name)  # last: the checkpoint is what marks the stage done
        log(f"{name}: {m['stages'][name]}")
    return learn
