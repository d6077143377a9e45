"""Checks a submission against the competition's `sample_submission.csv` before it is written or sent.

Ids are compared as text, as Kaggle does (`001` is not `1`). Kaggle matches rows by id, so a file whose rows are in
another order than the sample's is fine: `write_submission` writes it in the sample's order and says so, and a file
checked before `kaggle submit` is sent unchanged (the note says why). A file starting with a UTF-8 byte-order mark
is refused: its first column name is then not `id` for a reader that does not strip the mark.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UserError, require
from .files import write_csv

__all__ = [
    "check_submission",
    "align_to_sample",
    "write_submission",
    "check_submission_file",
    "read_submission_csv",
]

BOM = b"\xef\xbb\xbf"


def _ids(df, id_col):
    "Column `id_col` of `df` as text."
    return df[id_col].astype(str)


def align_to_sample(sub, sample, id_col="id", note=None):
    """`sub` in `sample`'s row order when it holds the same ids in another order (printing `note`, or a default
    note to stderr); `sub` itself otherwise (its ids are then checked by `check_submission`)."""
    ids, want = _ids(sub, id_col), _ids(sample, id_col)
    if len(sub) != len(sample) or ids.duplicated().any() or (ids.values == want.values).all():
        return sub
    if set(ids) != set(want):
        return sub
    print(
        note
        or "note: submission rows were in another order than sample_submission's; reordered to match (Kaggle "
        "matches rows by id)",
        file=sys.stderr,
    )
    pos = pd.Series(np.arange(len(sub)), index=ids.values)
    return sub.iloc[pos.loc[want.values].values].reset_index(drop=True)


def check_submission(sub, sample, id_col="id", lo=0.0, hi=1.0):
    """Raise `UserError` unless `sub` has `sample`'s columns, ids (as text, same order, count) and finite values in
    [`lo`, `hi`]; returns `sub`. Use `align_to_sample` first to accept another row order."""
    require(
        list(sub.columns) == list(sample.columns),
        f"submission columns {list(sub.columns)} differ from sample_submission's {list(sample.columns)}",
    )
    require(len(sub) == len(sample), f"submission has {len(sub)} rows, sample_submission has {len(sample)}")
    ids, want = _ids(sub, id_col), _ids(sample, id_col)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise UserError(f"submission has {len(dup)} duplicate id(s), e.g. {dup.iloc[0]!r}")
    same = ids.values == want.values
    if not same.all():
        i = int(np.argmin(same))
        missing = sorted(set(want) - set(ids))
        what = "ids are in another order"
        if missing:
            what = f"{len(missing)} sample ids are missing, e.g. {missing[0]!r}"
        raise UserError(
            f"submission ids differ from sample_submission at row {i} ({ids.iloc[i]!r} vs {want.iloc[i]!r}): {what} "
            "(ids are compared as text, as Kaggle does)"
        )
    for c in sub.columns:
        if c == id_col:
            continue
        v = pd.to_numeric(sub[c], errors="coerce")
        require(
            v.notna().all(),
            f"submission column {c!r} has {int(v.isna().sum())} missing or non-numeric values",
        )
        require(np.isfinite(v).all(), f"submission column {c!r} has non-finite values")
        require(
            ((v >= lo) & (v <= hi)).all(),
            f"submission column {c!r} has values outside [{lo}, {hi}]: min {v.min():.4g}, max {v.max():.4g}",
        )
    return sub


def read_submission_csv(path, id_col="id", bom_ok=False):
    "CSV file `path` with column `id_col` read as text; `UserError` for a UTF-8 byte-order mark unless `bom_ok`."
    path = Path(path)
    require(path.is_file(), f"file not found: {path}")
    with open(path, "rb") as f:
        head = f.read(3)
    require(
        bom_ok or head != BOM,
        f"{path} starts with a UTF-8 byte-order mark (BOM), so its first column is not named {id_col!r} for "
        "Kaggle; save it as plain UTF-8 (e.g. `df.to_csv(path, index=False)`, or in Excel "
        "'CSV (Comma delimited)')",
    )
    require(path.stat().st_size > 0, f"{path} is empty (0 bytes); write the submission with a header line first")
    try:
        df = pd.read_csv(
            path,
            dtype={id_col: str},
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig" if bom_ok else "utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"{path} is not a readable CSV file: {str(e).strip().splitlines()[0]}") from None
    if id_col not in df.columns:
        cols = list(df.columns)
        if len(cols) == 1 and ";" in str(cols[0]):
            why = "it looks ;-delimited (European Excel); save it comma-delimited ('CSV (Comma delimited)')"
        elif id_col.lower() in [str(c).lower() for c in cols]:
            why = "column names are case-sensitive"
        else:
            why = "the first column must be the ids"
        raise UserError(f"{path} has no {id_col!r} column (columns: {cols}): {why}")
    return df


def check_submission_file(path, sample_path, id_col="id", **kw):
    """Read `path` and `sample_path` (ids as text) and check the file against the sample; rows in another order are
    accepted with a note (the file is not changed: Kaggle matches rows by id). Returns the submission frame."""
    sample = read_submission_csv(sample_path, id_col, bom_ok=True)
    sub = read_submission_csv(path, id_col)
    note = (
        f"note: {path}'s rows are in another order than sample_submission's; that is fine, Kaggle matches rows by "
        "id (the file is sent as it is)"
    )
    check_submission(align_to_sample(sub, sample, id_col, note), sample, id_col=id_col, **kw)
    return sub


def write_submission(sub, path, sample, overwrite=False):
    """Check `sub` against `sample` (reordering its rows to the sample's order, with a note, when only the order
    differs), then write it to `path`; refuses to replace an existing file unless `overwrite`."""
    path = Path(path)
    sub = check_submission(align_to_sample(sub, sample), sample)
    if path.exists() and not overwrite:
        raise UserError(f"{path} exists; pass --overwrite to replace it (or choose another --out)")
    return write_csv(sub, path)
