"""A small generated dataset in the competition's schema, for the quick start and the tests (not Kaggle's data).

Anchors are `modifier head` phrases from seven CPC contexts; targets are scored by a fixed rule a model can
learn: both words replaced by synonyms (1.0), one word by a synonym (0.75), same head with another
modifier (0.5), same modifier with another head (0.25), a phrase from another context (0.0).
"""

import hashlib
import random
from pathlib import Path

import pandas as pd

__all__ = ["DOMAINS", "demo_frames", "write_demo"]

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
        {"electric": ["electrical"], "battery": ["accumulator"], "semiconductor": ["chip"], "magnetic": ["magnetised"]},
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
        {"compound": ["substance"], "salt": ["ionic compound"], "solution": ["mixture"], "catalyst": ["accelerator"]},
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
    "`(train, test, sample_submission)` frames: `per_context` anchors per context, `n_test_anchors` held out for test."
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
            from ..errors import UserError

            raise UserError(f"{p} exists and differs from the demo data; pass --overwrite to replace it")
    dest.mkdir(parents=True, exist_ok=True)
    for f, df in files.items():
        df.to_csv(dest / f, index=False)
    return dest
