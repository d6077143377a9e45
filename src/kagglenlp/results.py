"""`outputs/results.csv`: one row per finished experiment, from every pipeline (patents, imdb)."""
import csv
from pathlib import Path

from .paths import outputs_dir

__all__ = ["append_result", "read_results"]


def append_result(row, path=None):
    "Append dict `row` to `path` (default `outputs/results.csv`), widening the header when new keys appear."
    path = Path(path or outputs_dir()/"results.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = read_results(path)
    keys = list(rows[0].keys()) if rows else []
    keys += [k for k in row if k not in keys]
    if rows and list(rows[0].keys()) == keys:
        with open(path, "a", newline="") as f: csv.DictWriter(f, keys).writerow(row)
        return path
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, keys, restval="")
        w.writeheader(); w.writerows(rows + [row])
    tmp.replace(path)
    return path


def read_results(path=None):
    "Rows of `path` (default `outputs/results.csv`) as dicts; [] when absent."
    path = Path(path or outputs_dir()/"results.csv")
    if not path.exists(): return []
    with open(path, newline="") as f: return list(csv.DictReader(f))
