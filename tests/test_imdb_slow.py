"""Slow real-data check (`pytest -m slow -s`, ~20-30 min on 2 CPU cores): ULMFiT's step 1 must pay off.

Pretrain a small AWD-LSTM (200/400/2) for 2 epochs on WikiText-2 (valid+test text), fine-tune it on the 800 real
IMDb reviews of `../shared/data/imdb_sample`, train the classifier with the seed's stages on 80% of them and
measure the other 20%. Compare with the same flow without step 1 (LM fine-tuned from random weights) and
with no LM at all (classifier from a random encoder). ULMFiT must be ahead of both.
"""

import json
import time

import pytest

from kagglenlp.cli import main
from kagglenlp.paths import shared_data

DATA = shared_data()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        DATA is None
        or not (DATA / "imdb_sample" / "texts.csv").exists()
        or not (DATA / "wikitext2" / "valid.txt").exists(),
        reason="real data absent: needs ../shared/data/{imdb_sample/texts.csv,wikitext2} or KAGGLENLP_DATA",
    ),
]

ARCH = ["--emb-sz", "200", "--n-hid", "400", "--n-layers", "2", "--threads", "1", "--seq-len", "72"]
TRAIN = [*ARCH, "--bs", "16", "--valid-pct", "0.2", "--lm-epochs", "1", "2", "--clas-epochs", "1", "1", "1", "2"]


def _train(root, name, *extra):
    t0 = time.time()
    assert (
        main(["imdb", "train", "--data", str(DATA / "imdb_sample" / "texts.csv"), "--name", name, *TRAIN, *extra]) == 0
    )
    s = json.loads((root / "outputs" / name / "metrics.json").read_text())["summary"]
    return s, (time.time() - t0) / 60


def test_ulmfit_beats_no_pretraining(tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    t0 = time.time()
    corpus = [str(DATA / "wikitext2" / f) for f in ("valid.txt", "test.txt")]
    assert main(["imdb", "pretrain", "--corpus", *corpus, "--name", "wt2", *ARCH, "--bs", "64", "--epochs", "2"]) == 0
    pre = json.loads((tmp_path / "outputs" / "wt2" / "metrics.json").read_text())
    t_pre = (time.time() - t0) / 60
    ulm, t_ulm = _train(tmp_path, "ulmfit", "--pretrained", str(tmp_path / "outputs" / "wt2"))
    nopre, t_nopre = _train(tmp_path, "no-step1")
    nolm, t_nolm = _train(tmp_path, "no-lm", "--lm-epochs", "0", "0")
    print(f"\nWikiText-2 LM: {pre['tokens']} tokens, vocab {pre['vocab']}, {pre['fwd']} ({t_pre:.1f} min)")
    print(f"IMDb sample: {ulm['n_texts']} reviews, {ulm['n_labelled'] - ulm['n_valid']} train / {ulm['n_valid']} valid")
    for name, s, t in (
        ("ULMFiT (steps 1-3)", ulm, t_ulm),
        ("no step 1 (LM from scratch)", nopre, t_nopre),
        ("no LM (random encoder)", nolm, t_nolm),
    ):
        print(
            f"{name:30s} classifier accuracy {s['accuracy_fwd']:.3f}  LM accuracy {s['lm_accuracy_fwd'] or 0:.3f}  "
            f"LM perplexity {s['lm_perplexity_fwd'] or 0:.1f}  ({t:.1f} min)"
        )
    assert ulm["accuracy_fwd"] > nopre["accuracy_fwd"] and ulm["accuracy_fwd"] > nolm["accuracy_fwd"]
    assert ulm["lm_perplexity_fwd"] < nopre["lm_perplexity_fwd"]
