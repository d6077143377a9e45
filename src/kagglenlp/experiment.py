"""The experiment record both pipelines share: one folder per name, its settings and data fingerprint, a lock.

`open_experiment(...)` is how a run starts writing `outputs/<name>/`:
- a new name: the folder is made and `experiment.json` records the pipeline, every setting and a fingerprint of
  the input data's *content*;
- the same name again: the run resumes only when the fingerprint and every setting match, except the settings a
  pipeline lists as not changing results (`ignore`: e.g. the name, thread counts); a setting added later is
  compared by default, so a new hyperparameter can never mix folds trained two ways;
- `overwrite=True`: the folder and the run's other outputs (`also`, e.g. its submission file) are deleted first;
- while a run writes, it holds `outputs/.locks/<name>.lock` (`filelock`, released by the OS when the process
  dies, so a killed run never blocks its resume); a second run under the same name is refused, naming the first.

Also here: atomic writes (`write_json`, `write_csv`, `write_pickle`, `write_text`: temp file then rename), `saving`
(a failed save, e.g. a full disk, as one `UserError` naming the file), `read_csv_text` (a CSV whose id columns stay
text: `NA` is an id, not a missing value), `fingerprint` (sha256 of files, frames and values), `check_writable`, and
the one results-row shape (`experiment, time, pipeline, metric, score`, then extras) in `outputs/results.csv`,
written once per experiment (`Experiment.result`).
"""

import csv
import errno
import hashlib
import json
import os
import pickle
import re
import shlex
import shutil
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from . import paths
from .errors import UserError, not_utf8, require

__all__ = [
    "Experiment",
    "open_experiment",
    "check_experiment",
    "check_name",
    "RESERVED",
    "settings_diff",
    "fingerprint",
    "check_writable",
    "check_results_writable",
    "results_path",
    "atomic_path",
    "saving",
    "write_failure",
    "read_csv_text",
    "write_json",
    "read_json",
    "write_csv",
    "write_pickle",
    "write_text",
    "append_result",
    "read_results",
    "RESULT_KEYS",
    "RECORD",
    "RESULT",
]

RECORD = "experiment.json"  # in every experiment folder: pipeline, settings, data fingerprint
RESULT = "result.json"  # in an experiment folder once its results row is written: that row and its result key
RESULT_KEYS = ["experiment", "time", "pipeline", "metric", "score"]  # the first columns of outputs/results.csv
# What the tools keep under outputs/ beside the experiments: never an experiment name (`--overwrite` would delete it).
# The locks, tracking.py's TensorBoard and MLflow stores, tune's Optuna database, the results table, kaggle scores'
# plot, the IMDb tokenizer cache and toy data.
RESERVED = (".locks", "tensorboard", "mlruns", "optuna.db", "results.csv", "cv_lb.png", "cache", "toy")


# ---------------------------------------------------------------- atomic writes


FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG)
DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def write_failure(e):
    "`(errno or None, reason)` when exception `e` is a failed write (OS, safetensors or torch), else None."
    if isinstance(e, OSError):
        return e.errno, e.strerror or str(e)
    msg = str(e)
    if type(e).__name__ == "SafetensorError":  # not an OSError: `IoError(Os { code: 28, ..., message: "..." })`
        code, why = re.search(r"code: (\d+)", msg), re.search(r'message: "([^"]*)"', msg)
        return (int(code[1]) if code else None), (why[1] if why else msg.splitlines()[0] if msg else "SafetensorError")
    if isinstance(e, RuntimeError) and any(k in msg for k in ("PytorchStreamWriter", "file write failed")):
        return None, msg.splitlines()[0]  # torch.save on a full disk
    return None


@contextmanager
def saving(path):
    """Run the save of `path` in this block; a failed write (full disk, read-only file or folder, a `SafetensorError`
    or torch's writer error) becomes one `UserError` naming `path`. Pair it with `atomic_path` (or write to a temp
    folder and rename) so that nothing half-written is left to trust."""
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
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename (never half a file); a failed
    write becomes one `UserError` naming `path` (see `saving`)."""
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


# ---------------------------------------------------------------- fingerprints and checks


def _feed(h, obj):
    "Update hash `h` with the content of `obj` (file path, DataFrame, Series, bytes, str or JSON-able value)."
    if isinstance(obj, Path):
        if obj.is_dir():
            for p in sorted(q for q in obj.rglob("*") if q.is_file()):
                h.update(str(p.relative_to(obj)).encode())
                _feed(h, p)
        else:
            with open(obj, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    elif hasattr(obj, "to_csv") and hasattr(obj, "shape"):  # pandas DataFrame / Series: content, order and names
        h.update(obj.to_csv(index=False).encode("utf-8", "surrogatepass"))
    elif isinstance(obj, bytes):
        h.update(obj)
    elif isinstance(obj, str):
        h.update(obj.encode("utf-8", "surrogatepass"))
    else:
        h.update(json.dumps(obj, sort_keys=True, default=str).encode())
    h.update(b"\0")


def fingerprint(**parts):
    """`{name: sha256}` of each part's content (a `Path` to a file or folder, a DataFrame/Series, text, a value)
    plus `all`, the hash of them together. Compare fingerprints to know whether input data changed."""
    out = {}
    for k, v in sorted(parts.items()):
        h = hashlib.sha256()
        _feed(h, v)
        out[k] = h.hexdigest()
    out["all"] = hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest()
    return out


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


def results_path():
    "The shared results table, `outputs/results.csv`."
    return paths.outputs_dir() / "results.csv"


def check_results_writable(path=None):
    "Raise `UserError` naming the file when results table `path` (default `outputs/results.csv`) exists read-only."
    path = Path(path or results_path())
    require(
        not path.exists() or os.access(path, os.W_OK),
        f"cannot write {path}: the file is read-only; fix its permissions (chmod u+w) or move it away",
    )


def settings_diff(old, new, ignore=()):
    "Keys whose values differ between settings dicts `old` and `new`, except those in `ignore` (sorted)."
    keys = (set(old) | set(new)) - set(ignore)
    return sorted(k for k in keys if _norm(old.get(k)) != _norm(new.get(k)))


def _norm(v):
    "Settings as saved in JSON (tuples become lists)."
    return json.loads(json.dumps(v, default=str))


# ---------------------------------------------------------------- the experiment


class Experiment:
    "An open experiment: its `dir`, `name`, `pipeline`, `settings` and `data` fingerprint; `resumed` when it existed."

    def __init__(self, name, pipeline, settings, data, resumed, lock):
        self.name, self.pipeline, self.settings, self.data = name, pipeline, settings, data
        self.dir, self.resumed, self._lock = paths.exp_dir(name), resumed, lock

    def path(self, *parts):
        "A path inside the experiment folder."
        return self.dir.joinpath(*parts)

    def result(self, metric, score, key=None, **extras):
        """Append this experiment's row to `outputs/results.csv` (see `append_result`) once per result: the row
        and the result's `key` (e.g. a fingerprint of its predictions) are kept in `<dir>/result.json` first, so a
        rerun with the same key adds nothing when the row is in the table, and adds that same row when an earlier
        run stopped before writing it; a new key (changed predictions) is a new row. `--overwrite` (a new folder)
        gives a new row. This is the one writer of `result.json`. Returns the path."""
        table, mark = results_path(), self.path(RESULT)
        if mark.exists() and (kept := read_json(mark)).get("key") == key:
            row = kept["row"]
            key_of = lambda r: (r.get("experiment"), r.get("time"))  # noqa: E731
            done = any(key_of(r) == key_of(row) for r in read_results())
            return table if done else append_result(path=table, **row)
        row = dict(experiment=self.name, time=_now(), pipeline=self.pipeline)
        row.update(metric=metric, score=score, **{k: v for k, v in extras.items() if k not in RESULT_KEYS})
        write_json({"key": key, "row": row}, mark)
        return append_result(path=table, **row)

    def close(self):
        "Release the write lock."
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _lock_file(name):
    return paths.outputs_dir() / ".locks" / f"{name}.lock"


def _shown_command(argv, limit=1000):
    "Command line `argv` as a shell would take it, cut at `limit` characters with '…'."
    cmd = shlex.join([os.path.basename(argv[0]) if argv else "python", *argv[1:]])
    return cmd if len(cmd) <= limit else cmd[: limit - 1] + "…"


def _acquire(name, own=True):
    "The write lock of experiment `name` (noted as this process's when `own`), or `UserError` naming the holder."
    from filelock import FileLock, Timeout

    lf = _lock_file(name)
    lf.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lf), timeout=0)
    info = lf.with_suffix(".owner")
    try:
        lock.acquire()
    except Timeout:
        who = info.read_text().strip() if info.exists() else "another process"
        raise UserError(
            f"experiment {name!r} is being written by another run ({who}); wait for it to finish, "
            "or choose another --name"
        ) from None
    if not own:
        return lock
    cmd = _shown_command(sys.argv)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    info.write_text(f"pid {os.getpid()} on {socket.gethostname()}, started {started}: {cmd}\n")
    return lock


def check_name(name, flag="--name"):
    """Raise `UserError` unless `name` can name an experiment: a plain folder name under `outputs/` that is not a
    tool's (`RESERVED`, or a SQLite file beside `optuna.db`) and does not start with `-` or `.` (so that `blend`
    and `results` can take it as an argument, and `ls` shows it). Returns `name`."""
    require(
        name and "/" not in name and "\\" not in name and name not in (".", ".."),
        f"{flag} {name!r} must be a plain folder name",
    )
    tool = name in RESERVED or name.lower().startswith("optuna.db")
    require(
        not tool,
        f"{flag} {name!r} is the name of a tool's folder or file under outputs/ ({', '.join(RESERVED)}); "
        "choose another name",
    )
    require(
        name[0] not in "-.",
        f"{flag} {name!r} starts with {name[0]!r}: commands would read it as an option or a hidden folder; "
        "choose a name starting with a letter or digit",
    )
    return name


def check_experiment(name, pipeline, settings, data, ignore=(), overwrite=False, also=()):
    """Raise `UserError` if `open_experiment` with these arguments would refuse (other settings or data, leftovers,
    unwritable folders); writes nothing. Call it before slow checks (model loading) so the answer comes first."""
    check_name(name)
    out = paths.exp_dir(name)
    check_writable(out, *[Path(p).parent for p in also])
    check_results_writable()
    if _lock_file(name).exists():  # a run under way is named first: its settings may be the difference
        _acquire(name, own=False).release()
    return _check_resume(out, name, pipeline, settings, data, ignore, overwrite, also)


def open_experiment(name, pipeline, settings, data, ignore=(), overwrite=False, also=()):
    """Open experiment `name` of `pipeline` for writing (see the module docstring) and return the `Experiment`,
    holding its lock. `data` is a `fingerprint(...)`; `also` are other outputs a fresh start must not find (or
    that `overwrite` deletes). Everything else that can fail on bad input should be checked before this call."""
    check_name(name)
    out = paths.exp_dir(name)
    check_writable(out, *[Path(p).parent for p in also])
    check_results_writable()
    lock = _acquire(name)
    try:
        resumed = _check_resume(out, name, pipeline, settings, data, ignore, overwrite, also)
        if overwrite:
            shutil.rmtree(out, ignore_errors=True)
            for p in also:
                Path(p).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        write_json(
            {
                "name": name,
                "pipeline": pipeline,
                "settings": settings,
                "data": data,
                "ignored_on_resume": sorted(ignore),
            },
            out / RECORD,
        )
    except BaseException:
        lock.release()
        raise
    return Experiment(name, pipeline, settings, data, resumed, lock)


def _check_resume(out, name, pipeline, settings, data, ignore, overwrite, also):
    "True when `out` holds the same experiment (a resume); raise when it holds another; False when new."
    if overwrite:
        return False
    fix = "pass --overwrite to start over, or --name for a new experiment"
    rec = out / RECORD
    if rec.exists():
        old = read_json(rec)
        require(old.get("pipeline") == pipeline, f"{out} holds a {old.get('pipeline')} experiment; {fix}")
        diff = settings_diff(old.get("settings", {}), settings, ignore)
        if diff:
            was, now = old.get("settings", {}), settings
            shown = ", ".join(f"{k}: {was.get(k)!r} -> {now.get(k)!r}" for k in diff)
            raise UserError(f"{out} holds experiment {name!r} with other settings ({shown}); {fix}")
        was = old.get("data", {})
        if was.get("all") != data.get("all"):
            changed = sorted(k for k in set(was) | set(data) if k != "all" and was.get(k) != data.get(k))
            raise UserError(
                f"the input data of experiment {name!r} changed since it was started "
                f"({', '.join(changed)}); its models and predictions would be stale; {fix}"
            )
        return True
    if out.exists() and any(p.name != RECORD for p in out.iterdir()):
        raise UserError(f"{out} exists but holds no {RECORD} (made by an older version or by hand); {fix}")
    for p in also:
        require(not Path(p).exists(), f"{p} exists from an earlier run; {fix}")
    return False


# ---------------------------------------------------------------- results table


def append_result(experiment, pipeline, metric, score, path=None, time=None, **extras):
    """Append a row `experiment, time, pipeline, metric, score, **extras` to `path` (default
    `outputs/results.csv`; `time` default now), widening the header when new extra keys appear. Returns the path."""
    path = Path(path or results_path())
    row = dict(
        experiment=experiment,
        time=time or _now(),
        pipeline=pipeline,
        metric=metric,
        score=score,
        **{k: v for k, v in extras.items() if k not in RESULT_KEYS},
    )
    rows = read_results(path)
    keys = list(rows[0].keys()) if rows else list(RESULT_KEYS)
    keys += [k for k in row if k not in keys]
    if rows and list(rows[0].keys()) == keys:
        with saving(path), open(path, "a", newline="") as f:
            csv.DictWriter(f, keys).writerow(row)
        return path
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, keys, restval="")
        w.writeheader()
        w.writerows(rows + [row])
    return path


def _now():
    "The time as results rows show it."
    return time.strftime("%Y-%m-%d %H:%M:%S")


def read_results(path=None):
    "Rows of `path` (default `outputs/results.csv`) as dicts; [] when absent."
    path = Path(path or results_path())
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
