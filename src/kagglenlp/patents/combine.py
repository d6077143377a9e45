"""Finished folds of a trained experiment into one result (`finish.finish`): the OOF rows and test predictions."""

import pandas as pd

from .results import finish
from .storage import fold_dir, read_done, read_table

__all__ = ["collect_folds", "combine_folds"]


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
