"""TF-IDF + logistic regression on the same IMDb split as `kagglenlp imdb train`, next to ULMFiT's accuracy.

    python scripts/imdb_baseline.py --data ../shared/data/imdb_sample/texts.csv \
        --metrics outputs/ulmfit/metrics.json outputs/no-step1/metrics.json

The split comes from `kagglenlp.imdb.data.read_texts` with the same `--valid-pct`/`--seed` defaults as training, so
both models see the same held-out reviews (checked against `n_valid` in each metrics.json).
"""

import argparse
import dataclasses
import json
import time
from pathlib import Path

from kagglenlp.imdb.config import UlmfitConfig
from kagglenlp.imdb.data import read_texts
from kagglenlp.paths import shared_data

__all__ = ["tfidf_lr_accuracy", "main"]

DEFAULTS = {f.name: f.default for f in dataclasses.fields(UlmfitConfig)}  # the training defaults, stated once there


def tfidf_lr_accuracy(trn, val, ngrams=2, C=4.0):
    "Accuracy on `val` of TF-IDF (1..`ngrams`-grams) + logistic regression (`C`) fitted on `trn` (frames text,label)."
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    m = make_pipeline(
        TfidfVectorizer(ngram_range=(1, ngrams), min_df=2, sublinear_tf=True, strip_accents="unicode"),
        LogisticRegression(C=C, max_iter=2000),
    )
    m.fit(trn["text"], trn["label"])
    return float((m.predict(val["text"]) == val["label"]).mean())


def main(argv=None):
    "Print baseline and ULMFiT accuracies on the same split."
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sd = shared_data()
    p.add_argument(
        "--data", default=str(sd / "imdb_sample" / "texts.csv") if sd else None, help="aclImdb folder or CSV"
    )
    p.add_argument("--valid-pct", type=float, default=DEFAULTS["valid_pct"], help="hold-out when the CSV marks none")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="split seed")
    p.add_argument("--metrics", nargs="*", default=[], help="metrics.json files of `kagglenlp imdb train` runs to show")
    a = p.parse_args(argv)
    if not a.data:
        p.error("--data is required (no shared data folder found)")
    df = read_texts(a.data, a.valid_pct, a.seed)
    df = df[df["label"] != ""]
    trn, val = df[~df["is_valid"]], df[df["is_valid"]]
    t0 = time.time()
    acc = tfidf_lr_accuracy(trn, val)
    print(
        f"data: {a.data}: {len(trn)} train / {len(val)} valid reviews, valid class balance "
        f"{val['label'].value_counts(normalize=True).round(3).to_dict()}"
    )
    print(f"{'majority class':45s} accuracy {val['label'].value_counts(normalize=True).max():.3f}")
    print(f"{'TF-IDF (1-2 grams) + logistic regression':45s} accuracy {acc:.3f}  ({time.time() - t0:.1f} s)")
    for f in a.metrics:
        s = json.loads(Path(f).read_text())["summary"]
        same = "" if s["n_valid"] == len(val) else f"  (WARNING: {s['n_valid']} valid rows, not the same split)"
        print(f"{'ULMFiT ' + Path(f).parent.name:45s} accuracy {s['accuracy_fwd']:.3f}  ({s['minutes']:.1f} min){same}")


if __name__ == "__main__":
    main()
