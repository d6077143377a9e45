"""Fold storage: the files of an experiment folder and its `fold<k>/` folders, knowing no recipe.

A fold folder holds what its recipe saved (model, tokenizer, ...), `input_format.json` (the recipe's name as
`arch` and what rebuilds its inputs and model), `oof.csv` (`id, fold, pred, score`), `test_preds.csv`,
`log_history.json`, and `done.json`, written last: a folder without it is an interrupted fold, retrained on resume
and never used by `patents predict`. `done.json` names the experiment, its `split_id` (a hash of the fold
assignment), the settings that change results and the training data's fingerprint; `check_folds` compares them,
so that neither `train` (resuming over collected fold folders), `predict` (`find_fold_dirs`) nor `blend` ever
mixes folds of different models, splits or data. Ids are always read as text (`NA` is an id, not a gap).
"""

from pathlib import Path

from .. import paths
from ..errors import UserError, require
from ..experiment import settings_diff
from ..files import read_json, write_csv, write_json

__all__ = [
    "FORMAT_FILE",
    "DONE_FILE",
    "MODEL_KEYS",
    "fold_dir",
    "fold_done",
    "read_done",
    "read_format",
    "write_format",
    "write_done",
    "read_table",
    "write_folds",
    "find_fold_dirs",
    "fold_differences",
    "check_folds",
    "finished_folds",
    "find_full_dir",
]

FORMAT_FILE = "input_format.json"
DONE_FILE = "done.json"
MODEL_KEYS = ("settings", "data")  # the keys of `done.json` that say what a fold's model depends on


def fold_dir(out, k):
    "Folder of fold `k` in experiment folder `out`."
    return Path(out) / f"fold{k}"


def fold_done(out, k):
    "True when fold `k` of experiment folder `out` finished."
    return (fold_dir(out, k) / DONE_FILE).exists()


def read_done(fd):
    "The `done.json` of fold folder `fd`."
    return read_json(Path(fd) / DONE_FILE)


def read_format(fd):
    "The `input_format.json` of fold folder `fd` (its recipe as `arch`)."
    return read_json(Path(fd) / FORMAT_FILE)


def write_format(fmt, fd):
    "Write the input format `fmt` of fold folder `fd`."
    return write_json(fmt, Path(fd) / FORMAT_FILE)


def write_done(done, fd):
    "Mark fold folder `fd` finished with its `done` dict (written last)."
    return write_json(done, Path(fd) / DONE_FILE)


def read_table(path, text=("id",)):
    "CSV `path` with the columns `text` read as text, never as missing values (`NA`, `nan`, `null` are ids)."
    import pandas as pd  # here, not at the top: `kagglenlp ... --help` stays free of pandas

    head = pd.read_csv(path, nrows=0).columns
    na = {c: ["", "nan", "NaN"] for c in head if c not in text}  # the other (numeric) columns: blanks are missing
    return pd.read_csv(path, dtype={c: str for c in text if c in head}, keep_default_na=False, na_values=na)


def write_folds(out, trn):
    "Write `out/folds.csv` (`id, anchor, fold`) once (the split is data); an existing one must match."
    p = Path(out) / "folds.csv"
    cur = trn[["id", "anchor", "fold"]]
    if p.exists():
        old = read_table(p, ("id", "anchor"))
        require(
            old["id"].tolist() == cur["id"].tolist() and old["fold"].tolist() == cur["fold"].tolist(),
            f"{p} no longer matches the data; pass --overwrite to start over",
        )
    else:
        write_csv(cur, p)


def _candidates(d):
    """Finished fold folders (`fold*`, or `<VERSION>` where a fold uploaded as a Kaggle Model is mounted, with
    `input_format.json` and `done.json`) at or under `d`."""
    cands = [d] if (d / FORMAT_FILE).exists() else [p.parent for p in d.rglob(FORMAT_FILE)]
    return [p for p in cands if (p.name.startswith("fold") or p.name.isdigit()) and (p / DONE_FILE).exists()]


def _mount_name(d):
    """The mount name of `d` under Kaggle's input root (`uspppm-fold0`, `model/framework/variation/1`), else its
    name."""
    for base in paths.kaggle_input_roots():
        if Path(d).is_relative_to(base):
            return str(Path(d).relative_to(base))
    return Path(d).name


MIXED = (
    "Averaging or resuming them would mix different models and folds: keep the fold folders of one run together "
    "(move the others away; `patents train` retrains the missing folds)"
)


def _label(d, v):
    "`fold <k> (<folder>)` (or `full model (<folder>)`) for the fold folder `d` with `done.json` dict `v`."
    what = "full model" if v.get("full") else f"fold {v.get('fold')}"
    return f"{what} ({d})"


def fold_differences(a, b):
    """What differs between two folds' `done.json` dicts `a` and `b` (or a run's `meta`), in words: the experiment,
    each result-changing setting (`lr: 0.001 vs 0.002`), the training data, the split. What a fold of an older
    version did not record is not compared."""
    out = []
    if a.get("experiment") != b.get("experiment"):
        out.append(f"experiment {a.get('experiment')!r} vs {b.get('experiment')!r}")
    if all(k in a and k in b for k in MODEL_KEYS):
        sa, sb = a["settings"], b["settings"]
        out += [f"{k}: {sa.get(k)!r} vs {sb.get(k)!r}" for k in settings_diff(sa, sb)]
        changed = settings_diff(a["data"], b["data"], ("all",))
        out += [f"data {k} (the {k} file's content differs)" for k in changed]
    if a.get("split_id") != b.get("split_id"):
        out.append(f"split (the fold of each row) {a.get('split_id')} vs {b.get('split_id')}")
    return out


def check_folds(done, where, run=None):
    """Raise one `UserError` naming the fold and what differs (`fold_differences`) unless every folder in `done`
    (`{folder: done.json dict}`) was trained by one run: one experiment, split, set of settings and training data;
    with `run` (the `meta` that `train` gives the folds it trains), also the same as that run. The one check behind
    `train`'s resume, `predict` and `blend` (same folders, same message); it writes nothing."""
    if not done:
        return
    (d0, v0), *rest = sorted(done.items(), key=lambda kv: (kv[1].get("fold", -1), str(kv[0])))
    groups = {(v.get("experiment"), v.get("split_id")) for v in [*done.values(), *([run] if run else [])]}
    lead = f"come from {len(groups)} experiments or splits" if len(groups) > 1 else "were trained differently"
    for d, v in [*rest, *([("this run", run)] if run else [])]:
        diff = fold_differences(v0, v)
        if diff:
            other = "this run" if v is run else _label(d, v)
            raise UserError(
                f"the fold models under {where} {lead}: {_label(d0, v0)} vs {other}: {'; '.join(diff)}. {MIXED}"
            )


def finished_folds(out, folds=None):
    """`{folder: done.json dict}` of the finished folds of experiment folder `out` (those among `folds` when
    given), and of its finished `full/` model (`--full`)."""
    dirs = [fold_dir(out, k) for k in folds] if folds is not None else sorted(Path(out).glob("fold*"))
    return {d: read_done(d) for d in [*dirs, Path(out) / "full"] if (d / DONE_FILE).exists()}


def find_fold_dirs(model_dirs):
    """Every finished fold folder under `model_dirs` (searched recursively); `UserError` unless they are all the
    folds of one experiment, one split, one set of settings and one training data."""
    model_dirs = [model_dirs] if isinstance(model_dirs, (str, Path)) else list(model_dirs)
    dirs = []
    for d in map(Path, model_dirs):
        if not d.exists() and paths.is_kaggle():  # a kernel's outputs or a model may be mounted in another layout
            d = paths.kaggle_input(_mount_name(d))
        require(d.exists(), f"--models folder not found: {d}")
        dirs += _candidates(d)
    where = ", ".join(map(str, model_dirs))
    require(dirs, f"no finished fold models (fold<k>/ with {FORMAT_FILE} and {DONE_FILE}) under {where}")
    dirs = sorted(set(dirs))
    done = {d: read_done(d) for d in dirs}
    check_folds(done, where)
    got, exp = sorted(v["fold"] for v in done.values()), next(iter(done.values())).get("experiment")
    require(len(got) == len(set(got)), f"fold(s) found twice under {where}: {got}; pass each fold once")
    n = next(iter(done.values())).get("n_folds", len(got))
    missing = sorted(set(range(n)) - set(got))
    require(
        not missing,
        f"experiment {exp!r} has {len(got)} of its {n} folds finished under {where} "
        f"(missing: {missing}); train them (kagglenlp patents train ... resumes) or pass them too",
    )
    return dirs


def find_full_dir(fold_dirs):
    """The `full/` folder (the all-rows model of `--full`) beside the finished `fold_dirs` of one experiment;
    `UserError` when there is none or it was trained differently from the folds."""
    fold_dirs = [Path(d) for d in fold_dirs]
    fulls = sorted({d.parent / "full" for d in fold_dirs if (d.parent / "full" / DONE_FILE).exists()})
    where = ", ".join(sorted({str(d.parent) for d in fold_dirs}))
    require(
        fulls,
        f"--full-weight needs the all-rows model: no full/ with {DONE_FILE} beside the folds in {where} "
        "(train with --full)",
    )
    full, fd = fulls[0], fold_dirs[0]
    check_folds({fd: read_done(fd), full: read_done(full)}, where)
    return full
