"""The results table, `outputs/results.csv`: one row per finished experiment of either pipeline.

Each row starts `experiment, time, pipeline, metric, score` (`RESULT_KEYS`), then the pipeline's own columns; a new
column widens the header. `Experiment.result` (`experiment.py`) appends an experiment's row once; `kagglenlp
results` and `kagglenlp kaggle scores` read the table (`read_results`).
"""

import csv
import os
import time
from pathlib import Path

from . import paths
from .errors import require
from .files import atomic_path, saving

__all__ = ["RESULT_KEYS", "results_path", "check_results_writable", "append_result", "read_results", "now"]

RESULT_KEYS = ["experiment", "time", "pipeline", "metric", "score"]  # the first columns of outputs/results.csv


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


def append_result(experiment, pipeline, metric, score, path=None, time=None, **extras):
    """Append a row `experiment, time, pipeline, metric, score, **extras` to `path` (default
    `outputs/results.csv`; `time` default now), widening the header when new extra keys appear. Returns the
    path."""
    path = Path(path or results_path())
    row = dict(
        experiment=experiment,
        time=time or now(),
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


def now():
    "The time as results rows show it."
    return time.strftime("%Y-%m-%d %H:%M:%S")


def read_results(path=None):
    "Rows of `path` (default `outputs/results.csv`) as dicts; [] when absent."
    path = Path(path or results_path())
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
