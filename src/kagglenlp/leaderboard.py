"""CV against the leaderboard: join your Kaggle submissions to the local CV of the experiment that made each.

The pure part of `kagglenlp kaggle scores`: a submission's message carries its experiment's name as a tag
(`tag_message`: `... [exp:NAME]`); `parse_submissions` reads the CSV that `kaggle competitions submissions -c
COMPETITION --csv` prints; `join_cv` finds each one's experiment (the tag, else the file name `<NAME>.csv` that
`submissions/` holds) and its CV in `outputs/results.csv`; `cv_lb_correlation` says whether CV follows the
public (or, after the deadline, private) score, and `plot_cv_lb` draws the scatter (`outputs/cv_lb.png`).
"""

import io
import re
from pathlib import Path

__all__ = [
    "TAG",
    "tag_message",
    "experiment_of",
    "parse_submissions",
    "join_cv",
    "cv_lb_correlation",
    "plot_cv_lb",
]

TAG = re.compile(r"\[exp:([^\]\s]+)\]")  # `[exp:NAME]` in a submission message
_COLUMNS = {  # the listing's header (kaggle CLI 1.x and 2.x spellings) -> ours
    "filename": "file",
    "date": "date",
    "description": "message",
    "status": "status",
    "publicscore": "public",
    "privatescore": "private",
}


def tag_message(message, experiment):
    "Submission `message` with `[exp:<experiment>]` appended (once), so `kaggle scores` can find its CV."
    if not experiment or TAG.search(message or ""):
        return message
    return f"{message} [exp:{experiment}]".strip()


UNNAMED = ("submission",)  # file stems that name no experiment: `submission.csv`, what kernels and `predict` write


def experiment_of(message, file=None):
    """The experiment a submission came from: its `[exp:NAME]` tag, else the stem of `file`
    (`submissions/NAME.csv`); None for neither, or an untagged `submission.csv`."""
    m = TAG.search(str(message or ""))
    if m:
        return m.group(1)
    stem = Path(str(file)).stem if file and str(file) not in ("", "nan") else None
    return None if stem in UNNAMED else stem


def parse_submissions(text):
    """DataFrame `file, date, message, status, public, private` (scores as floats, NaN while pending or hidden) of
    the CSV printed by `kaggle competitions submissions -c C --csv`."""
    import pandas as pd

    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    df.columns = [re.sub(r"[^a-z]", "", c.lower()) for c in df.columns]
    df = df.rename(columns=_COLUMNS)
    for c in _COLUMNS.values():
        if c not in df:
            df[c] = ""
    for c in ("public", "private"):
        df[c] = pd.to_numeric(df[c].str.strip(), errors="coerce")
    return df[list(_COLUMNS.values())]


def join_cv(subs, results):
    """`subs` (from `parse_submissions`) with `experiment`, `cv` and `metric` from `results` (rows of
    `outputs/results.csv`: each experiment's latest row); submissions without a known experiment keep NaN CV."""
    import numpy as np

    latest = {}
    for r in results:
        latest[r["experiment"]] = r
    out = subs.copy()
    out["experiment"] = [experiment_of(m, f) for m, f in zip(subs["message"], subs["file"])]
    out["cv"] = [float(latest[e]["score"]) if e in latest else np.nan for e in out["experiment"]]
    out["metric"] = [latest[e].get("metric", "") if e in latest else "" for e in out["experiment"]]
    cols = ["experiment", "cv", "public", "private", "metric", "date", "status", "file", "message"]
    return out[cols]


def cv_lb_correlation(df, lb="public"):
    "`{n, pearson, spearman}` of CV against leaderboard column `lb` over rows with both (None below 3 rows)."
    both = df[["cv", lb]].dropna()
    if len(both) < 3:
        return None
    return {
        "n": len(both),
        "pearson": float(both["cv"].corr(both[lb])),
        "spearman": float(both["cv"].corr(both[lb], method="spearman")),
    }


def plot_cv_lb(df, path=None):
    "Scatter of CV against the public (and private) score, each point named by its experiment; saved to `path`."
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    for lb, marker in (("public", "o"), ("private", "s")):
        d = df[["experiment", "cv", lb]].dropna(subset=["cv", lb])
        if d.empty:
            continue
        r = cv_lb_correlation(df, lb)
        label = lb + (f" (Pearson {r['pearson']:.3f}, n={r['n']})" if r else "")
        ax.scatter(d["cv"], d[lb], marker=marker, label=label)
        for _, row in d.iterrows():
            ax.annotate(str(row["experiment"]), (row["cv"], row[lb]), fontsize=7, alpha=0.7)
    ax.set(xlabel="local CV", ylabel="leaderboard score", title="CV against the leaderboard")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    return fig
