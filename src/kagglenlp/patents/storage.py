"""Fold storage: the files of an experiment folder and its `fold<k>/` folders, knowing no recipe.

A fold folder holds what its recipe saved (model, tokenizer, ...), `input_format.json` (the recipe's name as
`arch` and what rebuilds its inputs and model), `oof.csv` (`id, fold, pred, score`), `test_preds.csv`,
`log_history.json`, and `done.json`, written last: a folder without it is an interrupted fold, retrained on resume
and never used by `patents predict`. `done.json` names the experiment, its `split_id` (a hash of the fold
assignment), the settings that change results and the training data's fingerprint, so `find_fold_dirs` never
averages folds of different models, splits or data. Ids are always read as text (`NA` is an id, not a gap).
"""

from pathlib import Path

from .. import paths
from ..errors import UserError, require
from ..experiment import read_json, settings_diff, write_csv, write_json

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
    "check_same_model",
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
    "The mount name of `d` under Kaggle's input root (`uspppm-fold0`, `model/framework/variation/1`), else its name."
    for base in paths.kaggle_input_roots():
        if Path(d).is_relative_to(base):
            return str(Path(d).relative_to(base))
    return Path(d).name


def check_same_model(done, where="the fold folders"):
    """`UserError` listing what differs when the `done.json` dicts `done` (`{folder: dict}`) record different
    result-changing settings or training data. Folds of old versions (no such record) are not compared."""
    rec = {d: v for d, v in done.items() if all(k in v for k in MODEL_KEYS)}
    if len(rec) < 2:
        return
    (d0, v0), *rest = rec.items()
    for d, v in rest:
        diff = settings_diff(v0["settings"], v["settings"])
        shown = [f"{k}: {v0['settings'].get(k)!r} vs {v['settings'].get(k)!r}" for k in diff]
        shown += [f"data {k}" for k in settings_diff(v0["data"], v["data"], ("all",))]
        if shown:
            raise UserError(
                f"{d0} and {d} under {where} were trained differently ({'; '.join(shown)}); averaging them would "
                "mix different models; pass the folds of one run"
            )


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
    groups = sorted({(v.get("experiment"), v.get("split_id")) for v in done.values()}, key=str)
    if len(groups) > 1:
        shown = "; ".join(f"{e} (split {s})" for e, s in groups)
        raise UserError(
            f"the fold models under {where} come from {len(groups)} experiments or splits: {shown}. "
            "Averaging them would mix different models and folds; pass one experiment's folders"
        )
    check_same_model(done, where)
    got = sorted(v["fold"] for v in done.values())
    require(len(got) == len(set(got)), f"fold(s) found twice under {where}: {got}; pass each fold once")
    n = next(iter(done.values())).get("n_folds", len(got))
    missing = sorted(set(range(n)) - set(got))
    require(
        not missing,
        f"experiment {groups[0][0]!r} has {len(got)} of its {n} folds finished under {where} "
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
    f, d = read_done(full), read_done(fd)
    require(
        (f.get("experiment"), f.get("split_id")) == (d.get("experiment"), d.get("split_id")),
        f"{full} belongs to experiment {f.get('experiment')!r}, the folds to {d.get('experiment')!r}",
    )
    check_same_model({fd: d, full: f}, where)
    return full
