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

Also here: `fingerprint` (sha256 of files, frames and values: what `experiment.json` records of the input data),
`settings_diff`, `check_name` (what may name an experiment) and `Experiment.result`, the one writer of
`result.json`, which appends the experiment's row to the results table once (`results_table.py`). Atomic writes and
file reading are in `files.py`.
"""

import hashlib
import json
import os
import shlex
import shutil
import socket
import sys
import time
from pathlib import Path

from . import paths
from .errors import UserError, require
from .files import check_writable, read_json, write_json
from .results_table import RESULT_KEYS, append_result, check_results_writable, now, read_results, results_path

__all__ = [
    "Experiment",
    "open_experiment",
    "check_experiment",
    "check_name",
    "RESERVED",
    "settings_diff",
    "fingerprint",
    "RECORD",
    "RESULT",
]

RECORD = "experiment.json"  # in every experiment folder: pipeline, settings, data fingerprint
RESULT = "result.json"  # in an experiment folder once its results row is written: that row and its result key
# What the tools keep under outputs/ beside the experiments: never an experiment name (`--overwrite` would delete
# it). The locks, tracking.py's TensorBoard and MLflow stores, tune's Optuna database, the results table, kaggle
# scores' plot, the IMDb tokenizer cache and toy data.
RESERVED = (".locks", "tensorboard", "mlruns", "optuna.db", "results.csv", "cv_lb.png", "cache", "toy")


# ---------------------------------------------------------------- fingerprints and settings


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


def settings_diff(old, new, ignore=()):
    "Keys whose values differ between settings dicts `old` and `new`, except those in `ignore` (sorted)."
    keys = (set(old) | set(new)) - set(ignore)
    return sorted(k for k in keys if _norm(old.get(k)) != _norm(new.get(k)))


def _norm(v):
    "Settings as saved in JSON (tuples become lists)."
    return json.loads(json.dumps(v, default=str))


# ---------------------------------------------------------------- the experiment


class Experiment:
    """An open experiment: its `dir`, `name`, `pipeline`, `settings` and `data` fingerprint; `resumed` when it
    existed."""

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
        row = dict(experiment=self.name, time=now(), pipeline=self.pipeline)
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
