"""Cross-validation folds written once as a `fold` column, with scikit-learn's splitters.

- `group`: `GroupKFold` by anchor (no anchor in two folds, like the private test's unseen anchors). An anchor is
  grouped by `group_key`: case, surrounding and repeated spaces and the Unicode form (NFC/NFD) ignored, so
  spellings of one phrase (`"METASTATIC BONE DISEASE "`, `"metastatic bone disease"`) share a fold; a note names
  them.
- `stratified-group`: `StratifiedGroupKFold` by anchor, stratified on the score.
- `time`: forward-chaining folds on a date column (`TimeSeriesSplit` over the sorted unique dates, with
  an optional `gap` of dates left out between train and validation); rows never validated get fold -1.
  Fold k trains only on dates before its validation dates minus the gap (`train_mask`).
"""

import numpy as np

from ..errors import require

__all__ = [
    "SPLITS",
    "check_n_folds",
    "group_key",
    "merged_variants",
    "group_folds",
    "stratified_group_folds",
    "time_folds",
    "add_folds",
    "train_mask",
]

SPLITS = ("group", "stratified-group", "time")


def check_n_folds(n_folds):
    "`UserError` unless `n_folds` (`--folds`) is at least 2: the one check of the fold count."
    require(n_folds >= 2, f"--folds must be at least 2, got {n_folds}")


def group_key(s):
    "The grouping key of text Series `s`: Unicode NFC, case-folded, spaces stripped and runs of them made one."
    return s.astype(str).str.normalize("NFC").str.casefold().str.split().str.join(" ")


def merged_variants(s):
    "`{key: [spellings]}` of the values of `s` written more than one way that `group_key` puts in one group."
    spell = s.astype(str).groupby(group_key(s).values).unique()
    return {k: sorted(v) for k, v in spell.items() if len(v) > 1}


def _groups(df, group_col, log=print):
    "The grouping keys of `df[group_col]`; a note to `log` names the spellings merged into one group."
    merged = merged_variants(df[group_col])
    if merged:
        shown = "; ".join(" = ".join(map(repr, v)) for v in list(merged.values())[:3])
        more = f" (and {len(merged) - 3} more)" if len(merged) > 3 else ""
        log(
            f"note: {len(merged)} {group_col}(s) are written more than one way (case, spaces or Unicode form) and "
            f"each share one fold: {shown}{more}"
        )
    return group_key(df[group_col])


def _check_groups(df, n_folds, group_col):
    check_n_folds(n_folds)
    n = group_key(df[group_col]).nunique()
    require(
        n_folds <= n,
        f"--folds {n_folds} is more than the {n} distinct {group_col}s: each fold needs its own {group_col}s",
    )


def _assign(df, splits):
    fold = np.full(len(df), -1, dtype=int)
    for k, (_, val) in enumerate(splits):
        fold[val] = k
    return df.assign(fold=fold)


def group_folds(df, n_folds=5, group_col="anchor", seed=42, log=print):
    "`df` with a `fold` column from `GroupKFold` on the `group_key` of `group_col` (groups shuffled by `seed`)."
    from sklearn.model_selection import GroupKFold  # here, not at import: commands start faster

    _check_groups(df, n_folds, group_col)
    kf = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return _assign(df, kf.split(df, groups=_groups(df, group_col, log)))


def score_classes(y):
    "Integer classes of scores in [0, 1] for stratification (quarter steps)."
    return np.rint(np.asarray(y, dtype=float) * 4).astype(int)


def stratified_group_folds(df, n_folds=5, group_col="anchor", y_col="score", seed=42, log=print):
    """`df` with a `fold` column from `StratifiedGroupKFold` on the `group_key` of `group_col`, stratified on
    `y_col`."""
    from sklearn.model_selection import StratifiedGroupKFold

    _check_groups(df, n_folds, group_col)
    kf = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return _assign(df, kf.split(df, score_classes(df[y_col]), groups=_groups(df, group_col, log)))


def time_folds(df, n_folds=5, date_col="date", gap=0):
    "`df` with forward-chaining `fold`s over the unique dates of `date_col`, `gap` dates between train and valid."
    import pandas as pd  # here, not at the top: `kagglenlp ... --help` stays free of pandas
    from sklearn.model_selection import TimeSeriesSplit

    require(date_col in df.columns, f"--split time needs a {date_col!r} column")
    dates = pd.to_datetime(df[date_col], errors="coerce")
    require(dates.notna().all(), f"column {date_col!r} has {int(dates.isna().sum())} missing or unparseable dates")
    uniq = np.sort(dates.unique())
    check_n_folds(n_folds)
    require(
        len(uniq) > n_folds + gap,
        f"{len(uniq)} distinct dates are too few for {n_folds} time folds with gap {gap}",
    )
    rank = np.searchsorted(uniq, dates.values)
    fold = np.full(len(df), -1, dtype=int)
    for k, (_, val) in enumerate(TimeSeriesSplit(n_splits=n_folds, gap=gap).split(uniq)):
        fold[np.isin(rank, val)] = k
    return df.assign(fold=fold)


def add_folds(df, split="group", n_folds=5, seed=42, date_col="date", gap=0, log=print):
    """`df` with a `fold` column made by splitter `split` (one of `SPLITS`); notes (merged anchor spellings) to
    `log`."""
    require(split in SPLITS, f"unknown --split {split!r}; choose one of {', '.join(SPLITS)}")
    if split == "group":
        return group_folds(df, n_folds, seed=seed, log=log)
    if split == "stratified-group":
        return stratified_group_folds(df, n_folds, seed=seed, log=log)
    return time_folds(df, n_folds, date_col=date_col, gap=gap)


def train_mask(df, k, split="group", date_col="date", gap=0):
    "Boolean mask of the rows fold `k` trains on: every other fold, or for `time` only the dates before its gap."
    if split != "time":
        return (df["fold"] != k).values
    import pandas as pd

    dates = pd.to_datetime(df[date_col])
    uniq = np.sort(dates.unique())
    first_val = np.searchsorted(uniq, dates[df["fold"] == k].min())
    cutoff = uniq[max(first_val - gap, 0)]
    return (dates < cutoff).values
