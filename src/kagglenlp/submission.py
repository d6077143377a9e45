"""Checks a submission frame against the competition's `sample_submission.csv` before it is written or sent."""
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UserError, require

__all__ = ["check_submission", "write_submission", "check_submission_file"]


def check_submission(sub, sample, id_col="id", lo=0.0, hi=1.0):
    "Raise `UserError` unless `sub` has `sample`'s columns, ids (same order, count) and finite values in [`lo`, `hi`]."
    require(list(sub.columns) == list(sample.columns),
            f"submission columns {list(sub.columns)} differ from sample_submission's {list(sample.columns)}")
    require(len(sub) == len(sample), f"submission has {len(sub)} rows, sample_submission has {len(sample)}")
    dup = sub[id_col][sub[id_col].duplicated()]
    if len(dup): raise UserError(f"submission has {len(dup)} duplicate id(s), e.g. {dup.iloc[0]!r}")
    same = sub[id_col].astype(str).values == sample[id_col].astype(str).values
    if not same.all():
        i = int(np.argmin(same))
        missing = set(sample[id_col].astype(str)) - set(sub[id_col].astype(str))
        what = f"{len(missing)} sample ids are missing, e.g. {sorted(missing)[0]!r}" if missing else "ids are in another order"
        raise UserError(f"submission ids differ from sample_submission at row {i} "
                        f"({sub[id_col].iloc[i]!r} vs {sample[id_col].iloc[i]!r}): {what}")
    for c in sub.columns:
        if c == id_col: continue
        v = pd.to_numeric(sub[c], errors="coerce")
        require(v.notna().all(), f"submission column {c!r} has {int(v.isna().sum())} missing or non-numeric values")
        require(np.isfinite(v).all(), f"submission column {c!r} has non-finite values")
        require(((v >= lo) & (v <= hi)).all(), f"submission column {c!r} has values outside [{lo}, {hi}]: "
                f"min {v.min():.4g}, max {v.max():.4g}")
    return sub


def check_submission_file(path, sample_path, **kw):
    "Read `path` and `sample_path` and `check_submission` them; returns the submission frame."
    for p in (path, sample_path): require(Path(p).is_file(), f"file not found: {p}")
    sub, sample = pd.read_csv(path), pd.read_csv(sample_path)
    return check_submission(sub, sample, **kw)


def write_submission(sub, path, sample, overwrite=False):
    "Check `sub` against `sample`, then write it to `path` (refuses to replace an existing file unless `overwrite`)."
    path = Path(path)
    check_submission(sub, sample)
    if path.exists() and not overwrite:
        raise UserError(f"{path} exists; pass --overwrite to replace it (or choose another --out)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sub.to_csv(tmp, index=False)
    tmp.replace(path)
    return path
