"""Files the tools write and read: atomic writes, a failed save as one error, CSVs whose ids stay text.

`write_json`, `write_csv`, `write_pickle`, `write_text` write a temp file beside the target, then rename it (never
half a file); `atomic_path` is that temp path for other writers (torch, safetensors); `saving` turns a failed write
(a full disk, a read-only folder, a `SafetensorError`) into one `UserError` naming the file. `read_json` and
`read_csv_text` (id columns kept as text: `NA` is an id, not a missing value) answer a bad file with one
`UserError`. `check_writable` asks whether a folder can be written before a run starts.
"""

import errno
import json
import os
import pickle
import re
from contextlib import contextmanager
from pathlib import Path

from .errors import UserError, not_utf8, require

__all__ = [
    "atomic_path",
    "saving",
    "write_failure",
    "check_writable",
    "read_csv_text",
    "write_json",
    "read_json",
    "write_csv",
    "write_pickle",
    "write_text",
]

FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)
DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def write_failure(e):
    "`(errno or None, reason)` when exception `e` is a failed write (OS, safetensors or torch), else None."
    if isinstance(e, OSError):
        return e.errno, e.strerror or str(e)
    msg = str(e)
    if type(e).__name__ == "SafetensorError":  # not an OSError: `IoError(Os { code: 28, ..., message: "..." })`
        code, why = re.search(r"code: (\d+)", msg), re.search(r'message: "([^"]*)"', msg)
        reason = why[1] if why else msg.splitlines()[0] if msg else "SafetensorError"
        return (int(code[1]) if code else None), reason
    if isinstance(e, RuntimeError) and any(k in msg for k in ("PytorchStreamWriter", "file write failed")):
        return None, msg.splitlines()[0]  # torch.save on a full disk
    return None


@contextmanager
def saving(path):
    """Run the save of `path` in this block; a failed write (full disk, read-only file or folder, a
    `SafetensorError` or torch's writer error) becomes one `UserError` naming `path`. Pair it with `atomic_path`
    (or write to a temp folder and rename) so that nothing half-written is left to trust."""
    try:
        yield
    except UserError:
        raise
    except Exception as e:
        fail = write_failure(e)
        if fail is None:
            raise
        code, why = fail
        hint = (
            "; the disk is full: free some space (or point KAGGLENLP_ROOT at a larger disk) and rerun"
            if code in FULL or "No space left" in why
            else "; check its and its folder's permissions"
            if code in DENIED
            else ""
        )
        raise UserError(f"cannot write {path} ({why}){hint}; nothing half-written was kept") from None


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename (never half a file); a
    failed write becomes one `UserError` naming `path` (see `saving`)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with saving(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            yield tmp
            tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(text, path):
    "Write string `text` to `path` atomically; returns `path`."
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
    return Path(path)


def write_json(obj, path):
    "Write `obj` as indented JSON to `path` atomically."
    return write_text(json.dumps(obj, indent=2, default=_json_default) + "\n", path)


def read_json(path):
    "The JSON in `path`, or a `UserError` naming the file when it is not valid JSON."
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not valid JSON ({e}); delete it or pass --overwrite") from None


def write_csv(df, path, **kw):
    "Write DataFrame `df` to CSV `path` atomically (no index unless `index=True`)."
    kw.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kw)
    return Path(path)


def write_pickle(obj, path):
    "Pickle `obj` to `path` atomically."
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    return Path(path)


def _na_strings():
    "The strings `pandas.read_csv` reads as missing by default (`NA`, `nan`, `null`, '', ...)."
    try:
        from pandas._libs.parsers import STR_NA_VALUES
    except ImportError:  # a pandas that moved it: its documented list
        STR_NA_VALUES = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"}
        STR_NA_VALUES |= {"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
    return sorted(STR_NA_VALUES)


def read_csv_text(path, text=("id",), **kw):
    """`pandas.read_csv(path)` with the columns in `text` (all columns when None) kept as written: strings, and
    `NA`, `nan`, `null` or a blank stay text instead of becoming missing (an id `NA` is an id); the other columns
    are parsed as pandas does. Undecodable or malformed files raise one `UserError` naming `path`."""
    import pandas as pd

    path = Path(path)
    require(path.is_file(), f"file not found: {path}")
    try:
        if text is None:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", **kw)
        cols = pd.read_csv(path, nrows=0, encoding="utf-8").columns
        keep = [c for c in cols if c in set(text)]
        na = {c: _na_strings() for c in cols if c not in keep}
        return pd.read_csv(
            path, dtype={c: str for c in keep}, keep_default_na=False, na_values=na, encoding="utf-8", **kw
        )
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    except pd.errors.EmptyDataError:
        raise UserError(f"{path} is empty") from None
    except pd.errors.ParserError as e:
        raise UserError(f"{path} is not a valid CSV: {e}") from None


def _json_default(o):
    "JSON for numpy scalars and paths."
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def check_writable(*dirs):
    "Raise `UserError` unless a file can be created in each of `dirs` (or its nearest existing parent)."
    for d in map(Path, dirs):
        p = d
        while not p.exists() and p != p.parent:
            p = p.parent
        require(p.is_dir(), f"cannot write under {d}: {p} is not a folder")
        probe = p / f".kagglenlp-write-test-{os.getpid()}"
        try:
            probe.write_text("")
            probe.unlink()
        except OSError as e:
            raise UserError(
                f"cannot write under {d} ({e.strerror}: {p}); fix its permissions or run elsewhere "
                "(KAGGLENLP_ROOT sets the output root)"
            ) from None
