"""The fast paths change no prediction: length-sorted inference without a Trainer, and training under torchrun (DDP)."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kagglenlp.patents.data import demo_frames, write_demo
from kagglenlp.patents.inputs import make_inputs, pair_texts
from kagglenlp.patents.models.infer import length_batches, predict_texts
from kagglenlp.results_table import read_results


def test_length_batches_cover_every_row_once_longest_first():
    lengths = np.array([3, 9, 1, 9, 4, 7, 2])
    batches = length_batches(lengths, 3)
    flat = np.concatenate(batches)
    assert sorted(flat) == list(range(len(lengths))) and [len(b) for b in batches] == [3, 3, 1]
    assert list(lengths[flat]) == sorted(lengths, reverse=True)


def test_inference_matches_trainer_predict(tmp_path):
    "Sorted batches, per-batch padding and inference_mode give Trainer.predict's numbers, in the original order."
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments

    from kagglenlp.patents.models.backbone import load_tokenizer, resolve_model

    torch.manual_seed(0)
    tok = load_tokenizer("minilm")
    model = AutoModelForSequenceClassification.from_pretrained(resolve_model("minilm"), num_labels=1)
    trn = demo_frames()[0].iloc[:70]
    texts = make_inputs(trn, "cpc", None, tok.sep_token)
    ds = Dataset.from_dict({"input": texts}).map(lambda b: tok(b["input"]), batched=True, remove_columns=["input"])
    args = TrainingArguments(str(tmp_path), per_device_eval_batch_size=16, report_to="none", use_cpu=True)
    ref = Trainer(model, args, processing_class=tok).predict(ds).predictions.reshape(-1)
    got = predict_texts(model, tok, texts, bs=16)
    assert got.shape == ref.shape and np.abs(got - ref).max() < 1e-5
    assert np.abs(predict_texts(model, tok, texts, bs=7) - ref).max() < 1e-5  # batch size does not matter


def test_inference_waits_for_the_device_once(monkeypatch):
    "Outputs stay on the device until the end: one copy to the host for any number of batches (no sync per batch)."
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from kagglenlp.patents.models.backbone import load_tokenizer
    from kagglenlp.patents.models.infer import embed_texts

    tok = load_tokenizer("minilm")
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(cfg)
    texts = make_inputs(demo_frames()[0].iloc[:50], "pair", None, tok.sep_token)
    ref = predict_texts(model, tok, texts, bs=50)
    calls, cpu = [], torch.Tensor.cpu
    monkeypatch.setattr(torch.Tensor, "cpu", lambda t, *a, **k: calls.append(1) or cpu(t, *a, **k))
    got = predict_texts(model, tok, texts, bs=4)  # 13 batches
    assert len(calls) == 1 and np.abs(got - ref).max() < 1e-5
    calls.clear()
    emb = embed_texts(model.bert, tok, texts, bs=4)
    assert len(calls) == 1 and emb.shape == (50, 32) and np.isfinite(emb).all()


def _torchrun(n, args, cwd, env):
    torchrun = shutil.which("torchrun") or pytest.skip("torchrun not found")
    cmd = [torchrun, "--standalone", f"--nproc_per_node={n}", "-m", "kagglenlp", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.e2e  # torchrun: two training processes
def test_train_under_torchrun_two_processes_writes_once(proj):
    "2 processes on the gloo backend: one complete, valid set of outputs, CV close to the one-process run, resumable."
    d = write_demo(proj / "input" / "demo")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KAGGLENLP_ROOT": str(proj)}
    common = ["patents", "train", "--data", str(d), "--model", "minilm", "--folds", "2", "--epochs", "1", "--seed", "0"]
    r = _torchrun(2, [*common, "--bs", "8", "--name", "ddp"], proj, env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("CV Pearson") == 1  # rank 1 trained along but reported and wrote nothing
    one = subprocess.run(
        [sys.executable, "-m", "kagglenlp", *common, "--bs", "16", "--name", "one"],
        cwd=proj,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    out = proj / "outputs" / "ddp"
    oof = pd.read_csv(out / "oof.csv")
    trn = pd.read_csv(d / "train.csv")
    assert sorted(oof.id) == sorted(trn.id) and not oof.id.duplicated().any()
    assert not any(p.name.startswith("rank") for p in out.rglob("*")) and not (out / "fold0" / "trainer").exists()
    rows = [r for r in read_results() if r["experiment"] == "ddp"]
    assert len(rows) == 1 and rows[0]["processes"] == "2"
    sub = pd.read_csv(proj / "submissions" / "ddp.csv")
    assert sub.id.tolist() == pd.read_csv(d / "sample_submission.csv").id.tolist() and sub.score.between(0, 1).all()
    cv_ddp = json.loads((out / "cv.json").read_text())["pearson"]
    cv_one = json.loads((proj / "outputs" / "one" / "cv.json").read_text())["pearson"]
    assert cv_ddp > 0.05 and abs(cv_ddp - cv_one) < 0.15, (cv_ddp, cv_one)  # 1 epoch: both learn a little
    # resume under torchrun: nothing to train, still one writer
    shutil.rmtree(out / "fold1")
    r = _torchrun(2, [*common, "--bs", "8", "--name", "ddp"], proj, env)
    assert r.returncode == 0 and "to train: [1]" in r.stdout, r.stderr[-3000:]
    assert (out / "fold1" / "done.json").exists()
    # a refused rerun stops every rank with the same one-line error
    r = _torchrun(2, [*common, "--bs", "8", "--lr", "1e-3", "--name", "ddp"], proj, env)
    assert r.returncode != 0 and "error: " in r.stderr and "other settings" in r.stderr


@pytest.mark.e2e  # runs benchmarks/gpu.sh (two Python processes importing torch)
def test_gpu_check_script_runs_on_a_machine_without_gpu(tmp_path):
    "The prepared GPU check parses and runs its preamble anywhere (its parts are smoke-run by hand with SMALL=1)."
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.sh"
    env = {**os.environ, "OUT": str(tmp_path / "out"), "KAGGLENLP_DATA": str(tmp_path), "PARTS": "none", "SMALL": "1"}
    r = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    log = (tmp_path / "out" / "gpu.log").read_text()
    assert "torch " in log and "transformers " in log  # the versions line the GPU log starts with
    assert f"done: {tmp_path / 'out'}" in log


@pytest.mark.e2e  # runs benchmarks/gpu.sh (two Python processes importing torch)
def test_gpu_check_merges_the_quality_runs_under_one_header(tmp_path):
    "The `quality` part's four results.csv files, with different columns, end in one file with one header."
    from pathlib import Path

    fake = tmp_path / "python"  # `-m kagglenlp ...` writes one results row as that pipeline would; the rest is Python
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1 $2" = "-m kagglenlp" ]; then\n'
        '  mkdir -p "$KAGGLENLP_ROOT/outputs"; run=$(basename "$KAGGLENLP_ROOT")\n'
        '  if [ "$run" = zeroshot ]; then printf "experiment,score,arch\\n%s,0.5,zeroshot\\n" $run\n'
        '  else printf "experiment,score,processes\\n%s,0.7,1\\n" $run; fi > "$KAGGLENLP_ROOT/outputs/results.csv"\n'
        "  exit 0\n"
        "fi\n"
        f'exec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.sh"
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "KAGGLENLP_DATA": str(tmp_path), "PARTS": "quality", "PYTHON": str(fake)}
    r = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = (out / "results.csv").read_text()
    rows = read_results(out / "results.csv")
    assert text.count("experiment,") == 1 and set(rows[0]) == {"experiment", "score", "processes", "arch"}
    assert sorted(r["experiment"] for r in rows) == ["bi", "pair", "seed", "zeroshot"]
    zs = next(r for r in rows if r["experiment"] == "zeroshot")
    assert zs["arch"] == "zeroshot" and zs["processes"] == ""


class _CountingTok:
    "A tokenizer proxy that records how many strings each call tokenizes."

    def __init__(self, tok):
        self.tok, self.sizes = tok, []

    def __call__(self, texts, **kw):
        self.sizes.append(len(texts))
        return self.tok(texts, **kw)

    def __getattr__(self, name):
        return getattr(self.tok, name)


def test_predict_streams_rows_in_bounded_chunks(monkeypatch):
    """Issue 18 (memory): the cross-encoder tokenizes and predicts `chunk` rows at a time, the bi-encoder scores pairs
    in chunks from the distinct-phrase cache; both give the unchunked numbers."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from kagglenlp.patents.models import infer
    from kagglenlp.patents.models.backbone import load_tokenizer

    tok = load_tokenizer("minilm")
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2)
    torch.manual_seed(0)
    model = BertForSequenceClassification(cfg).eval()
    df = demo_frames()[0].iloc[:60]
    texts = make_inputs(df, "pair", None, tok.sep_token)
    ref = predict_texts(model, tok, texts, bs=8, chunk=10**6)
    counting = _CountingTok(tok)
    got = predict_texts(model, counting, texts, bs=8, chunk=7)
    assert max(counting.sizes) == 7 and sum(counting.sizes) == 60 and np.abs(got - ref).max() < 1e-5
    a, b = pair_texts(df)
    whole = infer.phrase_cosines(model.bert, tok, a, b, bs=8, chunk=10**6)
    rows, cosine = [], infer.cosine
    monkeypatch.setattr(infer, "cosine", lambda u, v: rows.append(len(u)) or cosine(u, v))
    got = infer.phrase_cosines(model.bert, tok, a, b, bs=8, chunk=11)
    assert max(rows) == 11 and sum(rows) == 60 and np.abs(got - whole).max() < 1e-6
