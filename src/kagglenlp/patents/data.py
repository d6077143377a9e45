"""The data: reads and validates the competition files (`train.csv`, `test.csv`, `sample_submission.csv`), and
writes the generated demo data.

Every problem a user can fix is raised as one `UserError` before anything is written.

The demo data (`demo_frames`, `write_demo`) is a small generated dataset in the competition's schema, for the quick
start and the tests (not Kaggle's data). Anchors are `modifier head` phrases from seven CPC contexts; targets are
scored by a fixed rule a model can learn: both words replaced by synonyms (1.0), one word by a synonym (0.75), same
head with another modifier (0.5), same modifier with another head (0.25), a phrase from another context (0.0).
"""

import hashlib
import random
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError, require
from ..files import read_csv_text

__all__ = [
    "TRAIN_COLS",
    "TEST_COLS",
    "read_competition_csv",
    "read_csv_text",
    "shared_ids_note",
    "check_train",
    "check_test",
    "check_sample",
    "competition_files",
    "load_competition",
    "subsample_anchors",
    "DOMAINS",
    "demo_frames",
    "write_demo",
]

TRAIN_COLS = ["id", "anchor", "target", "context", "score"]
TEST_COLS = ["id", "anchor", "target", "context"]


def read_competition_csv(path, cols):
    "Read `path` as text (ids such as `NA` stay ids; the score is parsed later), requiring columns `cols`."
    path = Path(path)
    df = read_csv_text(path, text=None)
    missing = [c for c in cols if c not in df.columns]
    require(not missing, f"{path.name} lacks column(s) {missing}; it has {list(df.columns)}")
    return df


def _check_ids(df, name):
    dup = df["id"][df["id"].duplicated()]
    if len(dup):
        raise UserError(f"{name} has {len(dup)} duplicate id(s), e.g. {dup.iloc[0]!r}")
    empty = [c for c in ["anchor", "target", "context"] if c in df and (df[c].str.strip() == "").any()]
    require(not empty, f"{name} has empty values in column(s) {empty}")


def check_train(df, name="train.csv"):
    "Validate train rows and return them with a float `score`."
    require(len(df) > 0, f"{name} has no rows")
    _check_ids(df, name)
    score = pd.to_numeric(df["score"].replace("", np.nan), errors="coerce")
    bad = df["score"][score.isna()]
    if len(bad):
        raise UserError(f"{name} has {len(bad)} missing or non-numeric score(s), e.g. {bad.iloc[0]!r}")
    out = score[(score < 0) | (score > 1)]
    if len(out):
        raise UserError(f"{name} has {len(out)} score(s) outside [0, 1], e.g. {out.iloc[0]}")
    return df.assign(score=score.astype(float))


def check_test(df, name="test.csv"):
    "Validate test rows."
    require(len(df) > 0, f"{name} has no rows: nothing to predict")
    _check_ids(df, name)
    return df


def check_sample(sample, test, name="sample_submission.csv"):
    "Validate that `sample` has columns `id,score` and exactly `test`'s ids."
    require(
        list(sample.columns) == ["id", "score"],
        f"{name} must have columns ['id', 'score'], has {list(sample.columns)}",
    )
    require(not sample["id"].duplicated().any(), f"{name} has duplicate ids")
    s, t = set(sample["id"]), set(test["id"])
    if s != t:
        extra, miss = sorted(s - t), sorted(t - s)
        raise UserError(
            f"{name} ids differ from test.csv: {len(miss)} test id(s) missing from it (e.g. {miss[:3]}), "
            f"{len(extra)} id(s) not in test.csv (e.g. {extra[:3]})"
        )
    return sample


def competition_files(data_dir, need_train=True):
    "`{train, test, sample}` paths of the competition folder `data_dir` (what an experiment fingerprints)."
    d = Path(data_dir)
    files = {"test": d / "test.csv", "sample": d / "sample_submission.csv"}
    return {"train": d / "train.csv", **files} if need_train else files


def shared_ids_note(trn, tst):
    "A `note:` line when train and test share ids (legal, but often a test file cut from train), else None."
    both = sorted(set(trn["id"]) & set(tst["id"]))
    if both:
        return (
            f"note: {len(both)} id(s) appear in both train.csv and test.csv (e.g. {both[:3]}); the test rows are "
            "still predicted, but check that test.csv was not cut from train.csv"
        )


def load_competition(data_dir, max_rows=None, seed=42, need_train=True, log=print):
    """Validated `(train, test, sample)` frames from `data_dir`; `max_rows` keeps whole anchors, about that many
    rows (noting what it kept). Notes (shared ids, the subsample) go to `log`."""
    d = Path(data_dir)
    require(
        not d.is_file(),
        f"--data must be the competition folder (holding train.csv, test.csv, sample_submission.csv), not a file: {d}",
    )
    require(d.is_dir(), f"--data folder not found: {d.resolve()}")
    f = competition_files(d)
    tst = check_test(read_competition_csv(f["test"], TEST_COLS))
    sample = check_sample(read_competition_csv(f["sample"], ["id", "score"]), tst)
    trn = check_train(read_competition_csv(f["train"], TRAIN_COLS)) if need_train else None
    if trn is not None and (note := shared_ids_note(trn, tst)):
        log(note)
    if trn is not None and max_rows and len(trn) > max_rows:
        n, n_anchors = len(trn), trn["anchor"].nunique()
        trn = subsample_anchors(trn, max_rows, seed)
        k = trn["anchor"].nunique()
        require(
            k >= 2,
            f"--max-rows {max_rows} keeps {len(trn)} rows of a single anchor (of {n_anchors}): folds split by "
            "anchor need several; raise --max-rows",
        )
        log(f"note: --max-rows {max_rows} keeps {len(trn)} of {n} rows: {k} whole anchor(s) of {n_anchors}")
    return trn, tst, sample


def subsample_anchors(df, n, seed=42):
    "About `n` rows of `df`, taking whole anchors in a `seed`-shuffled order (keeps groups intact)."
    anchors = df["anchor"].drop_duplicates().sample(frac=1, random_state=seed)
    sizes = df.groupby("anchor").size()[anchors.values].cumsum()
    keep = set(sizes.index[: int(np.searchsorted(sizes.values, n)) + 1])
    return df[df["anchor"].isin(keep)].reset_index(drop=True)


# ---------------------------------------------------------------- the demo data

# context -> (modifiers, heads), each word with its synonyms
DOMAINS = {
    "G06": (
        {
            "data": ["information"],
            "memory": ["storage"],
            "network": ["communication"],
            "image": ["picture"],
            "user": ["operator"],
        },
        {
            "processor": ["processing unit"],
            "controller": ["control unit"],
            "interface": ["connection"],
            "table": ["list"],
        },
    ),
    "H01": (
        {
            "electric": ["electrical"],
            "battery": ["accumulator"],
            "semiconductor": ["chip"],
            "magnetic": ["magnetised"],
        },
        {"terminal": ["contact"], "coil": ["winding"], "electrode": ["pole"], "housing": ["casing"]},
    ),
    "B60": (
        {"vehicle": ["car"], "brake": ["braking"], "wheel": ["tyre"], "seat": ["chair"]},
        {"sensor": ["detector"], "frame": ["chassis"], "pedal": ["lever"], "lamp": ["light"]},
    ),
    "A61": (
        {"surgical": ["operating"], "dental": ["tooth"], "medical": ["clinical"], "wound": ["injury"]},
        {"instrument": ["tool"], "implant": ["prosthesis"], "dressing": ["bandage"], "syringe": ["injector"]},
    ),
    "C07": (
        {"organic": ["carbon based"], "acid": ["acidic"], "aromatic": ["benzene"], "polymer": ["macromolecular"]},
        {
            "compound": ["substance"],
            "salt": ["ionic compound"],
            "solution": ["mixture"],
            "catalyst": ["accelerator"],
        },
    ),
    "F16": (
        {"ball": ["spherical"], "gear": ["toothed"], "shaft": ["axle"], "spring": ["elastic"]},
        {"bearing": ["journal"], "coupling": ["joint"], "seal": ["gasket"], "valve": ["tap"]},
    ),
    "E04": (
        {"roof": ["roofing"], "wall": ["partition"], "floor": ["flooring"], "concrete": ["cement"]},
        {"panel": ["board"], "beam": ["girder"], "tile": ["slab"], "insulation": ["lagging"]},
    ),
}


def _id(*parts):
    return hashlib.md5("|".join(parts).encode()).hexdigest()[:16]


def _pairs(ctx, mod, head, rng):
    "Scored targets for anchor `mod head` in context `ctx`."
    mods, heads = DOMAINS[ctx]
    ms, hs = rng.choice(mods[mod]), rng.choice(heads[head])
    other_m = rng.sample([m for m in mods if m != mod], 2)
    other_h = rng.sample([h for h in heads if h != head], 2)
    octx = rng.sample([c for c in DOMAINS if c != ctx], 2)
    far = [f"{rng.choice(list(DOMAINS[c][0]))} {rng.choice(list(DOMAINS[c][1]))}" for c in octx]
    return (
        [(f"{ms} {hs}", 1.0), (f"{ms} {head}", 0.75), (f"{mod} {hs}", 0.75)]
        + [(f"{m} {head}", 0.5) for m in other_m]
        + [(f"{mod} {h}", 0.25) for h in other_h]
        + [(f, 0.0) for f in far]
    )


def demo_frames(seed=0, per_context=7, n_test_anchors=6):
    """`(train, test, sample_submission)` frames: `per_context` anchors per context, `n_test_anchors` held out for
    test."""
    rng = random.Random(seed)
    rows = []
    for ctx, (mods, heads) in DOMAINS.items():
        for mod, head in rng.sample([(m, h) for m in mods for h in heads], per_context):
            a = f"{mod} {head}"
            rows += [(_id(a, t, ctx), a, t, ctx, s) for t, s in _pairs(ctx, mod, head, rng) if t != a]
    df = pd.DataFrame(rows, columns=["id", "anchor", "target", "context", "score"]).drop_duplicates("id")
    anchors = sorted(df["anchor"].unique())
    test_anchors = set(rng.sample(anchors, n_test_anchors))
    tst = df[df["anchor"].isin(test_anchors)].reset_index(drop=True)
    trn = df[~df["anchor"].isin(test_anchors)].reset_index(drop=True)
    sample = pd.DataFrame({"id": tst["id"], "score": 0})
    return trn, tst.drop(columns="score"), sample


def write_demo(dest, seed=0, overwrite=False):
    "Write the demo's `train.csv`, `test.csv`, `sample_submission.csv` into `dest`; returns `dest`."
    dest = Path(dest)
    trn, tst, sample = demo_frames(seed)
    files = {"train.csv": trn, "test.csv": tst, "sample_submission.csv": sample}
    for f, df in files.items():
        p = dest / f
        if p.exists() and not overwrite and not pd.read_csv(p, dtype=str).equals(df.astype(str)):
            raise UserError(f"{p} exists and differs from the demo data; pass --overwrite to replace it")
    dest.mkdir(parents=True, exist_ok=True)
    for f, df in files.items():
        df.to_csv(dest / f, index=False)
    return dest
