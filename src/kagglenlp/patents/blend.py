"""Blend finished patents experiments with weights fitted on their OOF predictions, and an honest CV of the blend.

`kagglenlp patents blend EXP [EXP ...] --name NAME --method mean|nnls|hill|fixed [--weights W,W,..] [--scale
minmax]`:
- the experiments must share `folds.csv` (same rows, same fold of every row), test ids and the train and test data
  (the fingerprints in their `experiment.json`), and be finished (`oof.csv`, `cv.json`, `test_preds.csv`) from the
  folds of one run (`storage.check_folds`, as `predict` checks them); anything else is refused before a file is
  written;
- `--scale minmax` maps each member's OOF and test predictions onto [0, 1] first (`minmax_scale`),
  so members on different scales weigh as their weights say;
- weights are non-negative and sum to 1: `mean` (equal), `nnls` (non-negative least squares of the centred score
  on the centred predictions, normalised), `hill` (greedy forward selection with replacement on Pearson), `fixed`
  (`--weights`, one per member, normalised: nothing is fitted);
- the CV is nested: fold k's blend uses weights fitted on the other folds' OOF only, and is scored on fold k;
- the submission applies the weights fitted on all OOF rows to the experiments' fold-averaged test predictions.
Outputs: `outputs/NAME/{experiment.json, folds.csv, blend.json, oof.csv, cv.json, test_preds.csv, oof.png}`,
`submissions/NAME.csv` and a results row.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .. import paths
from ..args import opt
from ..errors import UserError, require
from ..experiment import check_name, fingerprint, open_experiment
from ..files import read_json, write_csv, write_json
from .metric import pearson
from .storage import check_folds, finished_folds, read_table

__all__ = [
    "METHODS",
    "FITTED",
    "BlendOptions",
    "fit_weights",
    "nested_cv",
    "load_member",
    "member_data",
    "check_members",
    "run_blend",
]

FITTED = ("mean", "nnls", "hill")  # the methods that fit weights on OOF predictions
METHODS = (*FITTED, "fixed")
SCALES = ("none", "minmax")
FILES = ("folds.csv", "oof.csv", "cv.json", "test_preds.csv")
DATA_KEYS = ("train", "test")  # the data fingerprints members must share (experiment.json `data`)


@dataclass
class BlendOptions:
    "Blend finished experiments with OOF-fitted weights (they must share folds.csv)."

    name: str = opt(help="name of the blend experiment: outputs/<name>/ and submissions/<name>.csv")
    method: str = opt(
        "nnls",
        "mean: equal weights; nnls: non-negative least squares; hill: greedy hill climbing; fixed: --weights",
        choices=METHODS,
    )
    weights: Optional[str] = opt(None, "with --method fixed: comma-separated weights, one per EXP (e.g. 2,1)")
    scale: str = opt(
        "none",
        "minmax: map each member's OOF and test predictions onto [0, 1] first",
        choices=SCALES,
    )
    overwrite: bool = opt(False, "delete outputs/<name>/ and its submission and start over")

    def __post_init__(self):
        require(
            (self.method == "fixed") == (self.weights is not None),
            "--weights goes with --method fixed (and --method fixed needs --weights W1,W2,...)",
        )
        parse_weights(self)


def parse_weights(opts):
    "The `--weights` of `opts` as checked floats (`check_weights`; None without them)."
    if opts.weights is None:
        return None
    try:
        w = [float(x) for x in str(opts.weights).split(",")]
    except ValueError:
        raise UserError(f"--weights must be comma-separated numbers, got {opts.weights!r}") from None
    return check_weights(w).tolist()


def check_weights(w, n=None):
    """`w` as an array, or `UserError` unless the weights (`--weights`) are non-negative, not all zero and
    (given `n`) one per experiment: the one check of fixed weights."""
    w = np.asarray(w, dtype=float)
    require(
        n is None or w.shape == (n,),
        f"--weights needs one weight per experiment: {n} experiments, {w.size} weights",
    )
    require((w >= 0).all() and w.sum() > 0, f"--weights must be non-negative and not all zero, got {w.tolist()}")
    return w


def minmax_scale(pred):
    "`pred` mapped linearly onto [0, 1] (min to 0, max to 1); zeros when it is constant (Pearson is unchanged)."
    p = np.asarray(pred, dtype=float)
    lo, span = p.min(), np.ptp(p)
    return (p - lo) / span if span > 0 else np.zeros_like(p)


def blend_fixed(preds, weights, scale="none"):
    """Weighted mean of the columns of `preds` (rows x experiments) with `weights` (`check_weights`, normalised),
    each column min-max scaled first for `scale="minmax"` (1st and 12th place)."""
    preds = np.asarray(preds, dtype=float)
    require(scale in SCALES, f"unknown --scale {scale!r}; choose one of {', '.join(SCALES)}")
    require(preds.ndim == 2, "blend_fixed needs a 2-d array of predictions (rows x experiments)")
    w = check_weights(weights, preds.shape[1])
    if scale == "minmax":
        preds = np.column_stack([minmax_scale(c) for c in preds.T])
    return preds @ (w / w.sum())


def _normalise(w):
    "Non-negative weights summing to 1 (equal weights when all are zero)."
    w = np.clip(np.asarray(w, dtype=float), 0, None)
    return w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))


def fit_weights(preds, y, method="nnls", steps=50, weights=None):
    """Non-negative weights summing to 1 for the columns of `preds` (rows x experiments) against scores `y`;
    `method="fixed"`: `weights` normalised (nothing fitted)."""
    preds, y = np.asarray(preds, dtype=float), np.asarray(y, dtype=float)
    m = preds.shape[1]
    if method == "fixed":
        return np.asarray(weights, dtype=float) / np.sum(weights)
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


def nested_cv(preds, y, folds, method="nnls", fixed=None):
    """Honest CV of the blend: for each fold k, weights fitted on the other folds' rows only, applied to fold k
    (`fixed`: the weights of `method="fixed"`). Returns `(blended OOF predictions, {fold: weights})`."""
    preds, y, folds = np.asarray(preds, dtype=float), np.asarray(y, dtype=float), np.asarray(folds)
    out = np.full(len(y), np.nan)
    weights = {}
    for k in sorted(set(folds.tolist())):
        held = folds == k
        w = fit_weights(preds[~held], y[~held], method, weights=fixed)
        out[held] = preds[held] @ w
        weights[int(k)] = w
    return out, weights


def _exp_dir(exp):
    "The folder of experiment `exp`: an existing folder path, else `outputs/<exp>`."
    p = Path(exp)
    return p if p.is_dir() and (p / "experiment.json").exists() else paths.exp_dir(str(exp))


def load_member(exp):
    "`(folder, folds, oof, test)` of finished experiment `exp`; `UserError` when it is missing or unfinished."
    import pandas as pd

    d = _exp_dir(exp)
    require(d.is_dir(), f"experiment {exp!r} not found (no folder {d})")
    check_folds(finished_folds(d), d)  # its fold folders (when kept) are one run's, as `predict` and `train` check
    missing = [f for f in FILES if not (d / f).exists()]
    require(
        not missing,
        f"experiment {exp!r} is unfinished ({', '.join(missing)} missing in {d}); finish it first",
    )
    folds, oof, tp = (
        read_table(d / "folds.csv", ("id", "anchor")),
        read_table(d / "oof.csv"),
        read_table(d / "test_preds.csv"),
    )
    cols = [c for c in tp.columns if c != "id"]
    test = pd.Series(tp[cols].mean(axis=1).values, index=tp["id"].values)
    return d, folds, oof.set_index("id"), test


def member_data(d):
    """The train/test data fingerprints of the experiment in folder `d` (`experiment.json` `data`; a blend's
    from its `blend.json`): `{key: sha256}` for the keys in `DATA_KEYS` it records."""
    data = read_json(d / "experiment.json").get("data") or {}
    if (d / "blend.json").exists():
        data = read_json(d / "blend.json").get("data") or {}
    return {k: data[k] for k in DATA_KEYS if k in data}


def check_members(exps):
    "Load and cross-check the blend's members; returns them (list of `load_member` tuples). Writes nothing."
    require(len(set(exps)) >= 2, f"blend needs at least two different experiments, got {list(exps)}")
    members = [load_member(e) for e in exps]
    d0, f0, o0, t0 = members[0]
    data0 = member_data(d0)
    for e, (d, f, o, t) in zip(exps[1:], members[1:]):
        data = member_data(d)
        differ = [f"{k}.csv" for k in DATA_KEYS if k in data0 and k in data and data0[k] != data[k]]
        require(
            not differ,
            f"experiments {exps[0]!r} and {e!r} were trained on different data ({' and '.join(differ)} differ, "
            "by their fingerprints in experiment.json); blend only experiments made with the same data files",
        )
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
    import pandas as pd

    from .results import finish

    exps = list(exps)
    check_name(opts.name)
    require(opts.name not in exps, f"--name {opts.name!r} is one of the blended experiments; choose another name")
    members = check_members(exps)
    fixed = parse_weights(opts)
    if fixed is not None:
        check_weights(fixed, len(exps))
    sample = _sample(members, exps)
    ids = members[0][2].index
    oof0 = members[0][2]
    y = oof0.loc[ids, "score"].values
    folds = oof0.loc[ids, "fold"].values
    preds = np.column_stack([m[2].loc[ids, "pred"].values for m in members])
    tpreds = np.column_stack([m[3].loc[sample["id"].values].values for m in members])
    if opts.scale == "minmax":  # OOF and test predictions each onto [0, 1], member by member
        preds, tpreds = (np.column_stack([minmax_scale(c) for c in p.T]) for p in (preds, tpreds))
    sub_path = paths.submissions_dir() / f"{opts.name}.csv"
    data = fingerprint(
        **{f"{e}/{f}": m[0] / f for e, m in zip(exps, members) for f in ("oof.csv", "test_preds.csv")},
    )
    settings = {"experiments": exps, "method": opts.method}
    settings.update({"scale": opts.scale} if opts.scale != "none" else {}, **({"weights": fixed} if fixed else {}))
    with open_experiment(opts.name, "patents", settings, data, ("overwrite",), opts.overwrite, [sub_path]) as exp:
        out = exp.dir
        blended, fold_w = nested_cv(preds, y, folds, opts.method, fixed)
        w = fit_weights(preds, y, opts.method, weights=fixed)
        oof = pd.DataFrame({"id": ids, "fold": folds, "pred": blended, "score": y})
        write_csv(members[0][1], out / "folds.csv")
        write_json(
            {
                "method": opts.method,
                "scale": opts.scale,
                "experiments": exps,
                "weights": dict(zip(exps, w.tolist())),
                "fold_weights": {str(k): dict(zip(exps, v.tolist())) for k, v in fold_w.items()},
                "data": member_data(members[0][0]),  # what a blend of this blend is checked against
            },
            out / "blend.json",
        )
        tp = pd.DataFrame(
            {
                "id": sample["id"].values,
                **{e: tpreds[:, j] for j, e in enumerate(exps)},
                "blend": blend_fixed(tpreds, w),
            }
        )
        members_cv = {e: read_json(m[0] / "cv.json")["pearson"] for e, m in zip(exps, members)}
        row = dict(
            arch="blend",
            method=opts.method if opts.scale == "none" else f"{opts.method}+{opts.scale}",  # e.g. fixed+minmax
            folds=len(set(folds.tolist())),
            rows=len(oof),
            members=" ".join(exps),
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
