"""Blend finished patents experiments with weights fitted on their OOF predictions, and an honest CV of the blend.

`kagglenlp patents blend EXP [EXP ...] --name NAME --method mean|nnls|hill`:
- the experiments must share `folds.csv` (same rows, same fold of every row) and test ids, and be finished
  (`oof.csv`, `cv.json`, `test_preds.csv`); anything else is refused before a file is written;
- weights are non-negative and sum to 1: `mean` (equal), `nnls` (non-negative least squares of the centred score
  on the centred predictions, normalised), `hill` (greedy forward selection with replacement on Pearson);
- the CV is nested: fold k's blend uses weights fitted on the other folds' OOF only, and is scored on fold k;
- the submission applies the weights fitted on all OOF rows to the experiments' fold-averaged test predictions.
Outputs: `outputs/NAME/{experiment.json, folds.csv, blend.json, oof.csv, cv.json, test_preds.csv, oof.png}`,
`submissions/NAME.csv` and a results row.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..args import opt
from ..errors import require
from ..experiment import fingerprint, open_experiment, read_json, write_csv, write_json
from .metrics import pearson
from .storage import read_table

__all__ = ["METHODS", "BlendOptions", "fit_weights", "nested_cv", "load_member", "check_members", "run_blend"]

METHODS = ("mean", "nnls", "hill")
FILES = ("folds.csv", "oof.csv", "cv.json", "test_preds.csv")


@dataclass
class BlendOptions:
    "Blend finished experiments with OOF-fitted weights (they must share folds.csv)."

    name: str = opt(help="name of the blend experiment: outputs/<name>/ and submissions/<name>.csv")
    method: str = opt(
        "nnls", "mean: equal weights; nnls: non-negative least squares; hill: greedy hill climbing", choices=METHODS
    )
    overwrite: bool = opt(False, "delete outputs/<name>/ and its submission and start over")


def _normalise(w):
    "Non-negative weights summing to 1 (equal weights when all are zero)."
    w = np.clip(np.asarray(w, dtype=float), 0, None)
    return w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))


def fit_weights(preds, y, method="nnls", steps=50):
    "Non-negative weights summing to 1 for the columns of `preds` (rows x experiments) against scores `y`."
    preds, y = np.asarray(preds, dtype=float), np.asarray(y, dtype=float)
    m = preds.shape[1]
    if method == "mean":
        return np.full(m, 1 / m)
    if method == "nnls":
        from scipy.optimize import nnls

        return _normalise(nnls(preds - preds.mean(0), y - y.mean())[0])
    require(method == "hill", f"unknown --method {method!r}; choose one of {', '.join(METHODS)}")
    counts = np.zeros(m)
    counts[int(np.nanargmax([pearson(preds[:, j], y) for j in range(m)]))] = 1
    best = pearson(preds @ _normalise(counts), y)
    for _ in range(steps):
        tries = [pearson(preds @ _normalise(counts + np.eye(m)[j]), y) for j in range(m)]
        j = int(np.nanargmax(tries))
        if not tries[j] > best + 1e-6:
            break
        counts[j] += 1
        best = tries[j]
    return _normalise(counts)


def nested_cv(preds, y, folds, method="nnls"):
    """Honest CV of the blend: for each fold k, weights fitted on the other folds' rows only, applied to fold k.
    Returns `(blended OOF predictions, {fold: weights})`."""
    preds, y, folds = np.asarray(preds, dtype=float), np.asarray(y, dtype=float), np.asarray(folds)
    out = np.full(len(y), np.nan)
    weights = {}
    for k in sorted(set(folds.tolist())):
        held = folds == k
        w = fit_weights(preds[~held], y[~held], method)
        out[held] = preds[held] @ w
        weights[int(k)] = w
    return out, weights


def _exp_dir(exp):
    "The folder of experiment `exp`: an existing folder path, else `outputs/<exp>`."
    p = Path(exp)
    return p if p.is_dir() and (p / "experiment.json").exists() else paths.exp_dir(str(exp))


def load_member(exp):
    "`(folder, folds, oof, test)` of finished experiment `exp`; `UserError` when it is missing or unfinished."
    d = _exp_dir(exp)
    require(d.is_dir(), f"experiment {exp!r} not found (no folder {d})")
    missing = [f for f in FILES if not (d / f).exists()]
    require(not missing, f"experiment {exp!r} is unfinished ({', '.join(missing)} missing in {d}); finish it first")
    folds, oof, tp = (
        read_table(d / "folds.csv", ("id", "anchor")),
        read_table(d / "oof.csv"),
        read_table(d / "test_preds.csv"),
    )
    cols = [c for c in tp.columns if c != "id"]
    test = pd.Series(tp[cols].mean(axis=1).values, index=tp["id"].values)
    return d, folds, oof.set_index("id"), test


def check_members(exps):
    "Load and cross-check the blend's members; returns them (list of `load_member` tuples). Writes nothing."
    require(len(set(exps)) >= 2, f"blend needs at least two different experiments, got {list(exps)}")
    members = [load_member(e) for e in exps]
    _, f0, o0, t0 = members[0]
    for e, (_, f, o, t) in zip(exps[1:], members[1:]):
        same_folds = f[["id", "fold"]].reset_index(drop=True).equals(f0[["id", "fold"]].reset_index(drop=True))
        require(
            same_folds,
            f"experiments {exps[0]!r} and {e!r} were trained on different folds (their folds.csv "
            "differ); blend only experiments made with the same data, --folds, --split, --seed and "
            "--max-rows",
        )
        require(
            set(o.index) == set(o0.index) and len(o) == len(o0),
            f"experiments {exps[0]!r} and {e!r} have OOF predictions for different ids; rerun them on the same folds",
        )
        require(
            set(t.index) == set(t0.index),
            f"experiments {exps[0]!r} and {e!r} predicted different test ids "
            "(another test.csv); rerun them on the same data",
        )
    return members


def _sample(members, exps):
    "The `sample_submission.csv` of the members' data folder (from the first member's `experiment.json`)."
    from .data import load_competition

    data = read_json(members[0][0] / "experiment.json").get("settings", {}).get("data")
    require(
        data and Path(data).is_dir(),
        f"the data folder of experiment {exps[0]!r} ({data}) is gone; "
        "sample_submission.csv is needed for the submission",
    )
    _, tst, sample = load_competition(data, need_train=False)
    require(
        set(tst["id"]) == set(members[0][3].index),
        f"test.csv in {data} no longer matches the test predictions of {exps[0]!r}; rerun the experiments",
    )
    return sample


def run_blend(exps, opts):
    "Blend finished experiments `exps` with options `opts` (`BlendOptions`); returns the blend's CV dict."
    from .finish import finish

    exps = list(exps)
    require(opts.name not in exps, f"--name {opts.name!r} is one of the blended experiments; choose another name")
    members = check_members(exps)
    sample = _sample(members, exps)
    ids = members[0][2].index
    oof0 = members[0][2]
    y = oof0.loc[ids, "score"].values
    folds = oof0.loc[ids, "fold"].values
    preds = np.column_stack([m[2].loc[ids, "pred"].values for m in members])
    tpreds = np.column_stack([m[3].loc[sample["id"].values].values for m in members])
    sub_path = paths.submissions_dir() / f"{opts.name}.csv"
    data = fingerprint(**{f"{e}/{f}": m[0] / f for e, m in zip(exps, members) for f in ("oof.csv", "test_preds.csv")})
    settings = {"experiments": exps, "method": opts.method}
    with open_experiment(opts.name, "patents", settings, data, ("overwrite",), opts.overwrite, [sub_path]) as exp:
        out = exp.dir
        blended, fold_w = nested_cv(preds, y, folds, opts.method)
        w = fit_weights(preds, y, opts.method)
        oof = pd.DataFrame({"id": ids, "fold": folds, "pred": blended, "score": y})
        write_csv(members[0][1], out / "folds.csv")
        write_json(
            {
                "method": opts.method,
                "experiments": exps,
                "weights": dict(zip(exps, w.tolist())),
                "fold_weights": {str(k): dict(zip(exps, v.tolist())) for k, v in fold_w.items()},
            },
            out / "blend.json",
        )
        tp = pd.DataFrame(
            {"id": sample["id"].values, **{e: tpreds[:, j] for j, e in enumerate(exps)}, "blend": tpreds @ w}
        )
        members_cv = {e: read_json(m[0] / "cv.json")["pearson"] for e, m in zip(exps, members)}
        row = dict(
            arch="blend", method=opts.method, folds=len(set(folds.tolist())), rows=len(oof), members=" ".join(exps)
        )
        cv = finish(
            exp,
            oof,
            tp,
            sample,
            sub_path,
            row,
            0,
            ["blend"],
            members=members_cv,
            in_sample_pearson=pearson(preds @ w, y),
        )
    shown = ", ".join(f"{e} {v:.3f}" for e, v in zip(exps, w))
    print(
        f"blend {opts.name}: weights {shown}\nnested-CV Pearson {cv['pearson']:.4f} (members: "
        f"{', '.join(f'{v:.4f}' for v in cv['members'].values())})\nsubmission: {sub_path}"
    )
    return cv
