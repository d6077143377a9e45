"""The competition metric (Pearson) and the one place predictions are clipped to [0, 1]."""

import numpy as np

__all__ = ["pearson", "compute_metrics", "clip01"]


def pearson(preds, targs):
    "Pearson correlation of `preds` and `targs` (any shapes holding n values each)."
    p, t = np.asarray(preds, dtype=float).reshape(-1), np.asarray(targs, dtype=float).reshape(-1)
    if len(p) < 2 or p.std() == 0 or t.std() == 0:
        return float("nan")
    return float(np.corrcoef(p, t)[0, 1])


def compute_metrics(eval_pred):
    "`Trainer.compute_metrics`: `{'pearson': r}` from predictions shaped `(n,1)` or `(n,)`."
    preds, labels = eval_pred[0], eval_pred[1]
    return {"pearson": pearson(preds, labels)}


def clip01(preds):
    "Clip `preds` into the score range [0, 1] (float array)."
    return np.clip(np.asarray(preds, dtype=float), 0.0, 1.0)
