"""Finished folds into one result: `oof.csv`, `cv.json` (Pearson overall and per fold), `test_preds.csv`, `oof.png`
and the fold-averaged, clipped, checked submission. Used after training and by `patents predict`."""

import numpy as np
import pandas as pd

from ..errors import require
from ..experiment import write_csv, write_json
from ..submission import check_submission, write_submission
from .fold import fold_dir, read_done
from .metrics import clip01, pearson

__all__ = ["combine_folds", "make_submission", "plot_oof"]


def make_submission(preds, sample):
    "Submission in `sample`'s id order: the mean of `preds`' fold columns, clipped to [0, 1], checked."
    cols = [c for c in preds.columns if c != "id"]
    require(cols, "no fold predictions to average")
    mean = preds.set_index("id")[cols].mean(axis=1)
    sub = pd.DataFrame({"id": sample["id"].values, "score": clip01(mean.reindex(sample["id"].values).values)})
    return check_submission(sub, sample)


def combine_folds(out, folds, sample, sub_path):
    "Combine finished `folds` of experiment folder `out` into its CV files and the submission at `sub_path`."
    oof = pd.concat([pd.read_csv(fold_dir(out, k) / "oof.csv", dtype={"id": str}) for k in folds], ignore_index=True)
    oof["pred"] = clip01(oof["pred"])
    write_csv(oof[["id", "fold", "pred", "score"]], out / "oof.csv")
    per = {str(k): pearson(g["pred"], g["score"]) for k, g in oof.groupby("fold")}
    cv = {
        "pearson": pearson(oof["pred"], oof["score"]),
        "folds": per,
        "n_oof": len(oof),
        "seconds": round(sum(read_done(fold_dir(out, k))["seconds"] for k in folds), 1),
    }
    write_json(cv, out / "cv.json")
    tps = {k: pd.read_csv(fold_dir(out, k) / "test_preds.csv", dtype={"id": str}) for k in folds}
    tp = tps[folds[0]][["id"]].assign(**{f"fold{k}": t["pred"].values for k, t in tps.items()})
    write_csv(tp, out / "test_preds.csv")
    write_submission(make_submission(tp, sample), sub_path, sample, overwrite=True)
    plot_oof(oof, out / "oof.png", cv["pearson"])
    return cv


def plot_oof(oof, path=None, r=None):
    "Scatter of OOF prediction against score, one colour per fold; saved to `path` when given. Returns the figure."
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    for k, g in oof.groupby("fold"):
        jitter = np.random.default_rng(int(k)).uniform(-0.04, 0.04, len(g))
        ax.scatter(g["score"] + jitter, g["pred"], s=6, alpha=0.4, label=f"fold {k}")
    title = f"OOF Pearson {r:.4f}" if r is not None else "OOF"
    ax.set(xlabel="score (jittered)", ylabel="OOF prediction", title=title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
