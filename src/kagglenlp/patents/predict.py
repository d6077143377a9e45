"""Inference from saved fold models (no training, no network) and the fold-averaged, clipped submission."""
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import require
from ..submission import check_submission
from .metrics import clip01

__all__ = ["FORMAT_FILE", "find_fold_dirs", "fold_inputs", "predict_fold", "predict_folds", "make_submission"]

FORMAT_FILE = "input_format.json"  # saved in every fold folder: how that model's inputs were built


def find_fold_dirs(model_dirs):
    "Every finished fold folder (`fold<k>/` with a model, `input_format.json` and `done.json`) under `model_dirs`, searched recursively."
    from ..paths import is_kaggle, kaggle_input
    model_dirs = [model_dirs] if isinstance(model_dirs, (str, Path)) else list(model_dirs)
    dirs = []
    for d in map(Path, model_dirs):
        if not d.exists() and is_kaggle(): d = kaggle_input(d.name)  # a kernel's outputs may be mounted deeper
        require(d.exists(), f"--models folder not found: {d}")
        cands = [d] if (d/FORMAT_FILE).exists() else [p.parent for p in d.rglob(FORMAT_FILE)]
        dirs += [p for p in cands if p.name.startswith("fold") and (p/"config.json").exists() and (p/"done.json").exists()]
    require(dirs, f"no finished fold models (fold<k>/ with config.json, {FORMAT_FILE}, done.json) under {', '.join(map(str, model_dirs))}")
    return sorted(set(dirs))


def fold_inputs(fold_dir, df, sep):
    "Input strings for `df` built the way fold `fold_dir`'s model was trained."
    from .text import make_inputs
    fmt = json.loads((Path(fold_dir)/FORMAT_FILE).read_text())
    return make_inputs(df, fmt["text"], fmt.get("titles"), sep, fmt.get("sib_cap")), fmt


def predict_fold(fold_dir, df, bs=256):
    "Raw predictions of the model saved in `fold_dir` for the rows of `df`."
    import tempfile
    from .model import load_model, load_tokenizer
    from .text import model_sep
    from .train import make_trainer, predict_ds, tokenize, training_args
    tok, model = load_tokenizer(str(fold_dir)), load_model(str(fold_dir))
    inputs, fmt = fold_inputs(fold_dir, df, model_sep(tok))
    ds = tokenize(tok, inputs, max_len=fmt.get("max_len", 256))
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trainer(model, tok, training_args(tmp, bs=bs // 2, max_steps=0))
        return predict_ds(trainer, ds)


def predict_folds(fold_dirs, df, bs=256):
    "A frame of `id` and one raw prediction column per fold folder (named by its path's last two parts)."
    from tqdm.auto import tqdm
    out = pd.DataFrame({"id": df["id"].values})
    for d in tqdm(fold_dirs, desc="fold models"):
        out["/".join(Path(d).parts[-2:])] = predict_fold(d, df, bs)
    return out


def make_submission(preds, sample):
    "Submission in `sample`'s id order: the mean of `preds`' fold columns, clipped to [0, 1], checked."
    cols = [c for c in preds.columns if c != "id"]
    require(cols, "no fold predictions to average")
    mean = preds.set_index("id")[cols].mean(axis=1)
    sub = pd.DataFrame({"id": sample["id"].values, "score": clip01(mean.reindex(sample["id"].values).values)})
    return check_submission(sub, sample)
