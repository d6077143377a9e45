"""Min-max scaled and fixed-weight blends (1st and 12th place): pure functions on prediction arrays.

`minmax_scale(pred)` maps one member's predictions onto [0, 1] (a constant column becomes zeros), so members on
different scales (MSE outputs, sigmoids, cosine similarities) weigh as their weights say; Pearson is unchanged.
`blend_fixed(preds, weights, scale)` is the weighted mean of the columns of `preds` with user-given non-negative
`weights` (normalised to sum 1), each column min-max scaled first when `scale="minmax"`.
`--full`: `full_fit_steps(best_steps)` is the optimizer-step count of the all-rows model (the folds' mean best step,
optionally scaled); `with_full(fold_preds, full_pred, weight)` averages the folds' test predictions with it at
`weight` times one fold's (1st place: 5 folds + the full model at weight 2).
"""

import numpy as np

from ...errors import require

__all__ = ["SCALES", "minmax_scale", "blend_fixed", "full_fit_steps", "with_full"]

SCALES = ("none", "minmax")


def minmax_scale(pred):
    "`pred` mapped linearly onto [0, 1] (min to 0, max to 1); zeros when it is constant."
    p = np.asarray(pred, dtype=float)
    lo, span = p.min(), np.ptp(p)
    return (p - lo) / span if span > 0 else np.zeros_like(p)


def blend_fixed(preds, weights, scale="none"):
    "Weighted mean of the columns of `preds` (rows x members) with `weights` (>= 0, normalised), `scale`d first."
    preds, w = np.asarray(preds, dtype=float), np.asarray(weights, dtype=float)
    require(scale in SCALES, f"unknown --scale {scale!r}; choose one of {', '.join(SCALES)}")
    require(
        preds.ndim == 2 and w.shape == (preds.shape[1],),
        f"--weights needs one weight per member: {preds.shape[1] if preds.ndim == 2 else '?'} members, "
        f"{w.size} weights",
    )
    require((w >= 0).all() and w.sum() > 0, f"--weights must be non-negative and not all zero, got {w.tolist()}")
    if scale == "minmax":
        preds = np.column_stack([minmax_scale(c) for c in preds.T])
    return preds @ (w / w.sum())


def full_fit_steps(best_steps, scale=1.0):
    "Optimizer steps for the all-rows model: the mean of the folds' `best_steps`, times `scale` (e.g. rows ratio)."
    steps = [s for s in best_steps if s is not None]
    require(steps, "--full needs the folds' best steps (train the folds with --evals-per-epoch first)")
    return max(1, round(float(np.mean(steps)) * scale))


def with_full(fold_preds, full_pred, weight=1.0):
    "Mean of the columns of `fold_preds` (rows x folds, weight 1 each) and `full_pred` at `weight` (>= 0)."
    fp = np.asarray(fold_preds, dtype=float).reshape(len(full_pred), -1)
    require(weight >= 0, f"--full-weight must be >= 0, got {weight}")
    return (fp.sum(1) + weight * np.asarray(full_pred, dtype=float)) / (fp.shape[1] + weight)
