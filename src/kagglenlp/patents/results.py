"""The end of every patents experiment (training, zero-shot, blending): CV, files, submission, plot, one results row.

`finish(exp, oof, test_preds, sample, sub_path, row)` writes `oof.csv`, `test_preds.csv`, `cv.json` (Pearson
overall and per fold), the fold-averaged, clipped, checked submission and `oof.png`, then appends the experiment's
row to `outputs/results.csv`: the same columns (`ROW_KEYS`) for every pipeline and recipe, blank where one does
not apply. The row is written once per result: `result.json` in the experiment folder remembers the result whose
row was written, so a rerun after a failed end of run writes the missing row, and a rerun of a finished
experiment adds none. A CV that is not a number (a fold whose predictions are constant) is an error, never a NaN
in a file.
"""

import numpy as np
import pandas as pd

from ..errors import require
from ..experiment import fingerprint, read_json, write_csv, write_json
from ..submission import check_submission, write_submission
from .metric import clip01, pearson

__all__ = ["ROW_KEYS", "ROW_FILE", "cv_dict", "make_submission", "plot_oof", "result_row", "finish"]

# the columns of every patents results row, after `experiment, time, pipeline, metric, score`
ROW_KEYS = (
    "arch",
    "model",
    "text",
    "split",
    "folds",
    "rows",
    "epochs",
    "lr",
    "head_lr",
    "max_len",
    "cv_folds",
    "seconds",
    "processes",
    "method",
    "members",
)
ROW_FILE = "result.json"  # the result whose row is in outputs/results.csv


def make_submission(preds, sample):
    "Submission in `sample`'s id order: the mean of `preds`' fold columns, clipped to [0, 1], checked."
    cols = [c for c in preds.columns if c != "id"]
    require(cols, "no fold predictions to average")
    mean = preds.set_index("id")[cols].mean(axis=1)
    sub = pd.DataFrame({"id": sample["id"].values, "score": clip01(mean.reindex(sample["id"].values).values)})
    return check_submission(sub, sample)


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


def cv_dict(oof, seconds, **extra):
    "`{pearson, folds, n_oof, seconds, **extra}` of OOF frame `oof`; `UserError` when a Pearson is undefined."
    per = {str(k): pearson(g["pred"], g["score"]) for k, g in oof.groupby("fold")}
    r = pearson(oof["pred"], oof["score"])
    bad = [k for k, v in per.items() if not np.isfinite(v)]
    require(
        not bad and np.isfinite(r),
        f"the Pearson of fold(s) {bad or list(per)} is undefined: their predictions (or scores) are constant; the "
        "model learnt nothing (try more --epochs or --max-steps, a larger --max-len or another --lr)",
    )
    return {"pearson": r, "folds": per, "n_oof": len(oof), "seconds": seconds, **extra}


def result_row(cv, **info):
    "The results-row extras of CV dict `cv`: every key of `ROW_KEYS` (blank unless in `info`), `cv_folds` from `cv`."
    info = {"cv_folds": " ".join(f"{v:.4f}" for v in cv["folds"].values()), "seconds": cv["seconds"], **info}
    unknown = set(info) - set(ROW_KEYS)
    assert not unknown, f"results-row keys {unknown} are not in ROW_KEYS"
    return {k: info.get(k, "") for k in ROW_KEYS}


def finish(exp, oof, test_preds, sample, sub_path, row, seconds=0, sub_cols=None, **extra):
    """Write experiment `exp`'s CV files (`extra`: more CV keys), its submission at `sub_path` (the mean of the
    `test_preds` columns `sub_cols`, default all but `id`) and plot; append its results row (`row`: `ROW_KEYS`
    values) unless already written. Returns the CV dict."""
    out = exp.dir
    oof = oof.assign(pred=clip01(oof["pred"]))[["id", "fold", "pred", "score"]]
    cv = cv_dict(oof, seconds, **extra)  # before any file: a NaN CV is an error
    write_csv(oof, out / "oof.csv")
    write_csv(test_preds, out / "test_preds.csv")
    write_json(cv, out / "cv.json")
    write_submission(
        make_submission(test_preds[["id", *sub_cols]] if sub_cols else test_preds, sample),
        sub_path,
        sample,
        overwrite=True,
    )
    plot_oof(oof, out / "oof.png", cv["pearson"])
    key = fingerprint(oof=oof, test=test_preds)["all"]
    marker = out / ROW_FILE
    if not (marker.exists() and read_json(marker).get("result") == key):
        exp.result("pearson", round(cv["pearson"], 4), **result_row(cv, **row))
        write_json({"result": key, "pearson": cv["pearson"]}, marker)
    return cv
