"""`kagglenlp results`: your own leaderboard from `outputs/results.csv`, and `--diff A B` between two experiments.

One row per experiment (its latest result), best first: CV, the spread of its per-fold scores, arch, model, a few
key settings (from `outputs/<name>/experiment.json`), training time and date. `--pipeline` and `--name` (a glob
pattern) filter; `--diff A B` lists the settings that differ between two experiments' `experiment.json`.
"""

import fnmatch
import statistics
from dataclasses import dataclass
from typing import Optional

from .args import add_dataclass_args, args_to_dataclass, opt

__all__ = ["ResultsArgs", "results_table", "settings_table", "fold_spread", "add_parser", "KEY_SETTINGS"]

# Settings shown in the table per pipeline (the rest: `--diff`); `arch` and `model` have their own columns.
KEY_SETTINGS = {
    "patents": ("text", "pool", "loss", "lr", "bs", "epochs", "folds", "max_rows"),
    "imdb": ("emb_sz", "n_hid", "n_layers", "bs", "lm_epochs", "clas_epochs", "backwards"),
}
LOWER_IS_BETTER = ("loss", "rmse", "mse", "mae", "logloss")  # metrics sorted ascending


@dataclass
class ResultsArgs:
    "Print outputs/results.csv as a sorted table (your leaderboard), or the settings two experiments differ in."

    pipeline: Optional[str] = opt(None, "only this pipeline's experiments (patents, imdb, ...)")
    name: Optional[str] = opt(None, "only experiments whose name matches this glob pattern, e.g. 'minilm-*'")
    diff: Optional[list[str]] = opt(None, "two experiments: show the settings that differ (A B)")
    sort: str = opt("score", "order: best score first, or newest first", choices=("score", "time"))
    top: Optional[int] = opt(None, "show only the first N rows")


def fold_spread(cv_folds):
    "Standard deviation of the space-separated per-fold scores `cv_folds` ('' or one fold: None)."
    vals = [float(x) for x in str(cv_folds or "").split()]
    return statistics.stdev(vals) if len(vals) > 1 else None


def _short(v):
    "A setting as shown in the table: floats in short form, lists joined."
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return ",".join(map(_short, v))
    return str(v)


def results_table(rows, records, pipeline=None, pattern=None, sort="score"):
    """The leaderboard frame from results rows `rows` (dicts) and `records` (`{name: experiment.json dict}`):
    each experiment's latest row, filtered by `pipeline` and glob `pattern`, sorted best first (or newest)."""
    import pandas as pd

    latest = {}
    for r in rows:  # results.csv is appended in time order: the last row of a name is its latest result
        latest[r["experiment"]] = r
    out = []
    for name, r in latest.items():
        if pipeline and r.get("pipeline") != pipeline or pattern and not fnmatch.fnmatchcase(name, pattern):
            continue
        s = records.get(name, {}).get("settings", {})
        keys = KEY_SETTINGS.get(r.get("pipeline"), ())
        spread = fold_spread(r.get("cv_folds"))
        out.append(
            {
                "experiment": name,
                "pipeline": r.get("pipeline", ""),
                "metric": r.get("metric", ""),
                "score": float(r["score"]) if r.get("score") not in (None, "") else float("nan"),
                "folds±": "" if spread is None else f"±{spread:.4f}",
                "arch": s.get("arch", ""),
                "model": r.get("model") or s.get("model", ""),
                "settings": " ".join(f"{k}={_short(s[k])}" for k in keys if s.get(k) is not None),
                "seconds": r.get("seconds", ""),
                "time": r.get("time", ""),
            }
        )
    df = pd.DataFrame(out, columns=["experiment", "pipeline", "metric", "score", "folds±", "arch", "model",
                                    "settings", "seconds", "time"])  # fmt: skip
    if sort == "time":
        return df.sort_values("time", ascending=False, kind="stable").reset_index(drop=True)
    sign = df["metric"].isin(LOWER_IS_BETTER).map({True: 1, False: -1})
    ranked = df.assign(_k=df["score"] * sign).sort_values("_k", kind="stable")
    return ranked.drop(columns="_k").reset_index(drop=True)


def settings_table(a, b, rec_a, rec_b):
    "Frame of the settings (and data) that differ between experiment records `rec_a` and `rec_b` named `a`, `b`."
    import pandas as pd

    from .experiment import settings_diff

    sa, sb = rec_a.get("settings", {}), rec_b.get("settings", {})
    diff = settings_diff(sa, sb, ["name"])
    rows = [{"setting": k, a: _short(sa.get(k, "")), b: _short(sb.get(k, ""))} for k in diff]
    if rec_a.get("pipeline") != rec_b.get("pipeline"):
        rows.insert(0, {"setting": "pipeline", a: rec_a.get("pipeline"), b: rec_b.get("pipeline")})
    da, db = rec_a.get("data", {}).get("all"), rec_b.get("data", {}).get("all")
    if da != db:
        rows.append({"setting": "data (content hash)", a: str(da)[:12], b: str(db)[:12]})
    return pd.DataFrame(rows, columns=["setting", a, b])


def _record(name):
    "The `experiment.json` of experiment `name`, or a `UserError` naming what exists."
    from . import paths
    from .errors import UserError
    from .experiment import RECORD
    from .files import read_json

    p = paths.exp_dir(name) / RECORD
    if not p.exists():
        have = sorted(q.parent.name for q in paths.outputs_dir().glob(f"*/{RECORD}"))
        raise UserError(f"no experiment {name!r} ({p} is missing); experiments: {', '.join(have) or 'none'}")
    return read_json(p)


def cmd_results(ns):
    "Print the leaderboard, or the diff of two experiments."
    import pandas as pd

    from . import paths
    from .errors import require
    from .experiment import RECORD
    from .files import read_json
    from .results_table import read_results

    a = args_to_dataclass(ns, ResultsArgs)
    if a.diff is not None:
        require(len(a.diff) == 2, f"--diff takes two experiment names, got {len(a.diff)}")
        x, y = a.diff
        df = settings_table(x, y, _record(x), _record(y))
        print(f"{x} and {y} have the same settings and data" if df.empty else df.to_string(index=False))
        return 0
    path = paths.outputs_dir() / "results.csv"
    rows = read_results(path)
    require(rows, f"no results yet ({path} is missing or empty); train an experiment first")
    records = {}
    for name in {r["experiment"] for r in rows}:
        p = paths.exp_dir(name) / RECORD
        if p.exists():
            records[name] = read_json(p)
    df = results_table(rows, records, a.pipeline, a.name, a.sort)
    if a.top:
        df = df.head(a.top)
    if df.empty:
        print("no experiment matches")
        return 0
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def add_parser(sub):
    "Register `kagglenlp results` on `sub`."
    p = sub.add_parser("results", help=ResultsArgs.__doc__.splitlines()[0], description=__doc__.splitlines()[0])
    add_dataclass_args(p, ResultsArgs).set_defaults(func=cmd_results)
    return p
