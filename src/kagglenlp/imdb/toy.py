"""Tiny generated IMDb-like data in both layouts, for tests and to run the notebook without the real corpus."""

import random
from pathlib import Path

import pandas as pd

__all__ = ["toy_reviews", "write_toy_folder", "write_toy_csv", "write_toy_corpus"]

POS = "great wonderful superb moving brilliant loved".split()
NEG = "awful boring terrible dull wooden hated".split()
FILLER = "the movie film actor plot story scene was and it this a of very really director music ending".split()


def toy_reviews(n=40, seed=0, words=30):
    "`n` reviews alternating `pos`/`neg`, `words` long, each with a few words of its sentiment among filler."
    rng = random.Random(seed)
    res = []
    for i in range(n):
        lbl = "pos" if i % 2 == 0 else "neg"
        ws = [rng.choice(FILLER) for _ in range(words)]
        for j in rng.sample(range(words), 4):
            ws[j] = rng.choice(POS if lbl == "pos" else NEG)
        res.append((lbl, "The " + " ".join(ws) + "."))
    return res


def write_toy_folder(path, n_train=40, n_test=20, n_unsup=10, seed=0):
    "aclImdb-style folder at `path` (`train|test/{pos,neg}/*.txt`, `unsup/*.txt`); returns `path`."
    path = Path(path)
    for split, n, s in (("train", n_train, seed), ("test", n_test, seed + 1), ("unsup", n_unsup, seed + 2)):
        for i, (lbl, txt) in enumerate(toy_reviews(n, s)):
            d = path / split / ("" if split == "unsup" else lbl)
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{i}_{split}.txt").write_text(txt)
    return path


def write_toy_csv(fname, n=60, seed=0, valid_pct=0.25):
    "IMDB_SAMPLE-style CSV `label,text,is_valid` at `fname`; returns `fname`."
    rows = toy_reviews(n, seed)
    n_val = int(n * valid_pct)
    df = pd.DataFrame(
        dict(
            label=[lbl for lbl, _ in rows],
            text=[t for _, t in rows],
            is_valid=[i >= n - n_val for i in range(n)],
        )
    )
    Path(fname).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(fname, index=False)
    return Path(fname)


def write_toy_corpus(fname, n=80, seed=3):
    "A plain-text 'general domain' corpus of `n` lines at `fname`; returns `fname`."
    Path(fname).parent.mkdir(parents=True, exist_ok=True)
    Path(fname).write_text("\n".join(t for _, t in toy_reviews(n, seed)) + "\n")
    return Path(fname)
