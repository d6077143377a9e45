"""Slow: the patents pipeline on the real USPPPM data (part of Kaggle's train) with MiniLM on the CPU."""

import json

import pandas as pd
import pytest

from kagglenlp.cli import main

pytestmark = pytest.mark.slow


def test_real_data_grouped_folds_learn(proj, data_dir):
    "~3,000 real rows, 2 anchor-grouped folds, 1 epoch, titles file validated: out-of-fold Pearson clearly positive."
    args = [
        "patents",
        "train",
        "--data",
        str(data_dir / "uspppm"),
        "--model",
        "minilm",
        "--arch",
        "cross",
        "--folds",
        "2",
        "--epochs",
        "1",
        "--bs",
        "16",
        "--max-rows",
        "3000",
        "--titles",
        str(data_dir / "cpc" / "cpc_texts.json"),
        "--name",
        "real",
    ]
    assert main(args) == 0
    out = proj / "outputs" / "real"
    cv = json.loads((out / "cv.json").read_text())
    print(f"\nreal-data OOF Pearson {cv['pearson']:.4f} per fold {cv['folds']} in {cv['seconds']:.0f}s")
    # measured here: 0.37 (folds 0.50 / 0.29; cross-encoder, 1 CPU epoch: below the zero-shot floor, see docs/results)
    assert cv["pearson"] > 0.15 and all(v > 0.1 for v in cv["folds"].values()), cv
    folds = pd.read_csv(out / "folds.csv")
    assert (folds.groupby("anchor").fold.nunique() == 1).all() and 3000 <= len(folds) < 3300
    sub = pd.read_csv(proj / "submissions" / "real.csv")
    assert sub.id.tolist() == pd.read_csv(data_dir / "uspppm" / "sample_submission.csv").id.tolist()
    assert sub.score.between(0, 1).all() and sub.score.std() > 0
