"""The end of every patents experiment (training, zero-shot, blending): CV, files, submission, plot, results row.

`combine_folds` gathers a trained experiment's finished folds (OOF rows, test predictions) and hands them to
`finish`.

`finish(exp, oof, test_preds, sample, sub_path, row)` writes `oof.csv`, `test_preds.csv`, `cv.json` (Pearson
overall and per fold), the fold-averaged, clipped, checked submission and `oof.png`, then appends the experiment's
row to `outputs/results.csv`: the same columns (`ROW_KEYS`) for every pipeline and recipe, blank where one does
not apply. The row is written once per result (`Experiment.result`, the one writer of `result.json`, keyed by a
fingerprint of the predictions): a rerun after a failed end of run writes the missing row, a rerun of a finished
experiment adds none, and a rerun whose predictions changed adds the new result's row. A CV that is not a number
(a fold whose predictions are constant) is an error, never a NaN in a file.
"""

import numpy as np
import pandas as pd

from ..errors import require
from ..experiment import fingerprint
from ..files import write_csv, write_json
from ..submission import check_submission, write_submission
from .metric import clip01, pearson
from .storage import fold_dir, read_done, read_table

__all__ = [
    "ROW_KEYS",
    "collect_folds",
    "combine_folds",
    "cv_dict",
    "make_submission",
    "plot_oof",
    "result_row",
    "finish",
]

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
    """The results-row extras of CV dict `cv`: every key of `ROW_KEYS` (blank unless in `info`), `cv_folds` from
    `cv`."""
    info = {"cv_folds": " ".join(f"{v:.4f}" for v in cv["folds"].values()), "seconds": cv["seconds"], **info}
    unknown = set(info) - set(ROW_KEYS)
    assert not unknown, f"results-row keys {unknown} are not in ROW_KEYS"
    return {k: info.get(k, "") for k in ROW_KEYS}


def finish(exp, oof, test_preds, sample, sub_path, row, seconds=0, sub_cols=None, **extra):
    """Write experiment `exp`'s CV files (`extra`: more CV keys), its submission at `sub_path` (the mean of the
    `test_preds` columns `sub_cols`, default all but `id`) and plot; append its results row (`row`: `ROW_KEYS`
    values) unless this result's row is already written. Returns the CV dict."""
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
    exp.result("pearson", round(cv["pearson"], 4), key=key, **result_row(cv, **row))
    return cv


def collect_folds(out, folds):
    "`(oof, test_preds, seconds)` of the finished `folds` of experiment folder `out` (ids as text)."
    oof = pd.concat([read_table(fold_dir(out, k) / "oof.csv") for k in folds], ignore_index=True)
    tps = {k: read_table(fold_dir(out, k) / "test_preds.csv") for k in folds}
    tp = tps[folds[0]][["id"]].assign(**{f"fold{k}": t["pred"].values for k, t in tps.items()})
    seconds = round(sum(read_done(fold_dir(out, k))["seconds"] for k in folds), 1)
    return oof, tp, seconds


def combine_folds(exp, folds, sample, sub_path, row):
    "Combine finished `folds` of experiment `exp` into its CV files, the submission at `sub_path` and its row."
    oof, tp, seconds = collect_folds(exp.dir, folds)
    return finish(exp, oof, tp, sample, sub_path, row, seconds)
