"""Fast end-to-end tests of `kagglenlp imdb` on tiny generated data with a tiny AWD-LSTM (about a minute in all)."""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from helpers import IMDB_SMALL

from kagglenlp.cli import main
from kagglenlp.imdb.toy import toy_reviews, write_toy_corpus, write_toy_csv, write_toy_folder

TINY = IMDB_SMALL
FAST = ["--lm-epochs", "1", "1", "--clas-epochs", "1", "1", "1", "1"]
CLAS = ["clas_{d}_0_last", "clas_{d}_1_last2", "clas_{d}_2_last3", "clas_{d}_3_all"]
pytestmark = pytest.mark.e2e  # every test trains (the module fixture, or its own run)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    "Pretrain fwd+bwd on a toy corpus, then train fwd+bwd on a toy aclImdb folder; yields the root."
    root = tmp_path_factory.mktemp("imdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAGGLENLP_ROOT", str(root))
        corpus = write_toy_corpus(root / "corpus.txt")
        assert (
            main(["imdb", "pretrain", "--corpus", str(corpus), "--name", "pre", "--epochs", "1", "--backwards", *TINY])
            == 0
        )
        acl = write_toy_folder(root / "acl")
        assert (
            main(
                [
                    "imdb",
                    "train",
                    "--data",
                    str(acl),
                    "--pretrained",
                    str(root / "outputs" / "pre"),
                    "--backwards",
                    "--name",
                    "t",
                    *TINY,
                    *FAST,
                ]
            )
            == 0
        )
        yield root


def test_pretrain_writes_loadable_folder(run):
    pre = run / "outputs" / "pre"
    assert {p.name for p in pre.iterdir()} >= {
        "lstm_fwd.pth",
        "lstm_bwd.pth",
        "itos.pkl",
        "config.json",
        "metrics.json",
    }
    assert json.loads((pre / "config.json").read_text())["arch"] == dict(emb_sz=16, n_hid=32, n_layers=1)
    from kagglenlp.imdb.lm import find_pretrained

    assert find_pretrained([pre], backwards=True)[0].name == "lstm_bwd.pth"


def test_train_writes_everything(run):
    exp = run / "outputs" / "t"
    for f in [
        "lm_fwd.pkl",
        "lm_bwd.pkl",
        "classifier_fwd.pkl",
        "classifier_bwd.pkl",
        "metrics.json",
        "experiment.json",
        "vocab.pkl",
        "models/encoder_fwd.pth",
        "models/encoder_fwd_vocab.pkl",
        "models/encoder_bwd.pth",
    ]:
        assert (exp / f).is_file(), f
    m = json.loads((exp / "metrics.json").read_text())
    for d in ("fwd", "bwd"):
        for k in (f"lm_{d}_0_frozen", f"lm_{d}_1_unfrozen"):
            assert m["stages"][k]["perplexity"] > 1 and 0 <= m["stages"][k]["accuracy"] <= 1
            assert (exp / "plots" / f"{k}.png").stat().st_size > 1000
        for k in CLAS:
            assert 0 <= m["stages"][k.format(d=d)]["accuracy"] <= 1
    assert m["stages"]["clas_fwd_1_last2"]["lr_div"] == pytest.approx(2.6**4)
    s = m["summary"]
    assert {"accuracy_fwd", "accuracy_bwd", "accuracy_ensemble", "lm_perplexity_fwd"} <= set(s) and s["n_valid"] == 20
    rows = pd.read_csv(run / "outputs" / "results.csv")
    assert rows.iloc[-1]["experiment"] == "t" and rows.iloc[-1]["score"] == pytest.approx(
        s["accuracy_ensemble"], abs=1e-4
    )
    assert list(rows.columns[:5]) == ["experiment", "time", "pipeline", "metric", "score"]
    assert rows.iloc[-1]["pipeline"] == "imdb" and rows.iloc[-1]["metric"] == "accuracy"
    rec = json.loads((exp / "experiment.json").read_text())
    assert rec["pipeline"] == "imdb" and rec["settings"]["backwards"] is True and rec["settings"]["emb_sz"] == 16
    assert {"texts", "pretrained_fwd", "pretrained_bwd", "all"} <= set(rec["data"])


def test_resume_runs_only_missing_stages(run, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(run))
    exp = run / "outputs" / "t"
    (exp / "models" / "clas_fwd_3_all.pth").unlink()
    (exp / "classifier_fwd.pkl").unlink()
    before = {p.name: p.stat().st_mtime_ns for p in (exp / "models").glob("*.pth")}
    assert (
        main(
            [
                "imdb",
                "train",
                "--data",
                str(run / "acl"),
                "--pretrained",
                str(run / "outputs" / "pre"),
                "--backwards",
                "--name",
                "t",
                *TINY,
                *FAST,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "clas_fwd: resuming after stage 2 (last3)" in out and "lm_fwd_0_frozen:" not in out
    after = {p.name: p.stat().st_mtime_ns for p in (exp / "models").glob("*.pth")}
    assert "clas_fwd_3_all.pth" in after and (exp / "classifier_fwd.pkl").exists()
    assert all(after[k] == v for k, v in before.items() if k.startswith(("lm_", "encoder_")))


def test_batch_predict_matches_learn_predict(run):
    import torch

    from kagglenlp.imdb.predict import load_learner_file, predict_probs

    learn = load_learner_file(run / "outputs" / "t" / "classifier_fwd.pkl")
    texts = [t for _, t in toy_reviews(6, seed=11)] + ["Short.", "the plot " * 50]
    probs = predict_probs(learn, texts, bs=3)
    with learn.no_bar():
        one = torch.stack([learn.predict(t)[2] for t in texts])
    assert probs.shape == (8, 2) and torch.allclose(probs, one, atol=1e-5)


def test_predict_cli_subprocess_ensemble(run, tmp_path):
    src = write_toy_csv(tmp_path / "new.csv", n=10).resolve()
    exp = run / "outputs" / "t"
    cmd = [sys.executable, "-m", "kagglenlp"] if not shutil.which("kagglenlp") else ["kagglenlp"]
    out = tmp_path / "pred.csv"
    r = subprocess.run(
        [
            *cmd,
            "imdb",
            "predict",
            "--model",
            str(exp / "classifier_fwd.pkl"),
            str(exp / "classifier_bwd.pkl"),
            "--texts",
            str(src),
            "--out",
            str(out),
            "--bs",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out)
    assert len(df) == 10 and set(df.label) <= {"neg", "pos"} and "text" not in df.columns
    assert ((df.prob_neg + df.prob_pos - 1).abs() < 1e-5).all() and (
        df.prob == df[["prob_neg", "prob_pos"]].max(1)
    ).all()
    r = subprocess.run(
        [*cmd, "imdb", "predict", "--model", str(exp / "classifier_fwd.pkl"), "--texts", str(src), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2 and "error:" in r.stderr and "already exists" in r.stderr


def test_generate(run, capsys):
    assert (
        main(
            [
                "imdb",
                "generate",
                "--model",
                str(run / "outputs" / "t" / "lm_fwd.pkl"),
                "--prompt",
                "The movie was",
                "--words",
                "8",
                "-n",
                "2",
            ]
        )
        == 0
    )
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("The movie was")]
    assert len(lines) == 2 and all(len(ln.split()) > 3 for ln in lines)  # xxmaj/xxup fold into the next word


def test_csv_layout_without_pretraining(tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    csv = write_toy_csv(tmp_path / "s.csv", n=24)
    assert main(["imdb", "train", "--data", str(csv), "--name", "c", *TINY, *FAST]) == 0
    m = json.loads((tmp_path / "outputs" / "c" / "metrics.json").read_text())
    assert m["summary"]["pretrained"] is False and m["summary"]["n_valid"] == 6 and "accuracy_bwd" not in m["summary"]
    assert (tmp_path / "outputs" / "c" / "classifier_fwd.pkl").exists()


def _train_t(run, *extra):
    "Rerun the fixture's `train` command with `extra` arguments; returns the exit code."
    return main(
        [
            "imdb",
            "train",
            "--data",
            str(run / "acl"),
            "--pretrained",
            str(run / "outputs" / "pre"),
            "--backwards",
            "--name",
            "t",
            *TINY,
            *FAST,
            *extra,
        ]
    )


def _files(d):
    return {p: p.read_bytes() for p in d.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "extra,key",
    [
        (["--seed", "1"], "seed"),
        (["--lm-drop-mult", "0.4"], "lm_drop_mult"),
        (["--max-vocab", "100"], "max_vocab"),
        (["--bs", "4"], "bs"),
        (["--clas-lrs", "1e-2", "1e-2", "5e-3", "1e-3"], "clas_lrs"),
    ],
)
def test_rerun_with_a_changed_setting_refused(run, monkeypatch, capsys, extra, key):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(run))
    before = _files(run / "outputs" / "t")
    assert _train_t(run, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and f"other settings ({key}: " in err and "--overwrite" in err
    assert _files(run / "outputs" / "t") == before


def test_swapped_folder_labels_and_new_pretrained_lm_refused(run, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(run))
    exp, trn = run / "outputs" / "t", run / "acl" / "train"
    before = _files(exp)
    (trn / "pos").rename(trn / "tmp")
    (trn / "neg").rename(trn / "pos")
    (trn / "tmp").rename(trn / "neg")
    try:
        assert _train_t(run) == 2
        assert "input data of experiment 't' changed since it was started (texts)" in capsys.readouterr().err
    finally:
        (trn / "pos").rename(trn / "tmp")
        (trn / "neg").rename(trn / "pos")
        (trn / "tmp").rename(trn / "neg")
    pre = run / "outputs" / "pre" / "lstm_bwd.pth"
    saved = pre.read_bytes()
    import torch

    sd = torch.load(pre)
    sd["0.encoder.weight"] += 1
    torch.save(sd, pre)
    try:
        assert _train_t(run) == 2
        assert "changed since it was started (pretrained_bwd)" in capsys.readouterr().err
    finally:
        pre.write_bytes(saved)
    assert _files(exp) == before


def test_vocab_from_another_tokenizer_refused_on_resume(run, monkeypatch, capsys):
    from kagglenlp.imdb import pipeline

    monkeypatch.setenv("KAGGLENLP_ROOT", str(run))
    make = pipeline.make_lm_vocab
    monkeypatch.setattr(pipeline, "make_lm_vocab", lambda *a, **k: make(*a, **k) + ["xxnewtoken"])
    before = _files(run / "outputs" / "t")
    assert _train_t(run) == 2
    assert "vocab.pkl holds another vocab" in capsys.readouterr().err
    assert _files(run / "outputs" / "t") == before


@pytest.mark.parametrize(
    "cmd,model,msg",
    [
        (
            "predict",
            "lm_fwd.pkl",
            "lm_fwd.pkl is an exported language model, not an exported classifier; pass {exp}/classifier_fwd.pkl",
        ),
        ("predict", "models/clas_fwd_3_all.pth", "clas_fwd_3_all.pth holds model weights"),
        ("predict", "models/encoder_fwd.pth", "encoder_fwd.pth holds model weights"),
        (
            "generate",
            "classifier_bwd.pkl",
            "is an exported classifier, not an exported language model; pass {exp}/lm_bwd.pkl",
        ),
    ],
)
def test_wrong_model_file_named_with_the_right_one(run, monkeypatch, capsys, tmp_path, cmd, model, msg):
    exp = run / "outputs" / "t"
    argv = ["imdb", cmd, "--model", str(exp / model)]
    if cmd == "predict":
        argv += ["--texts", str(write_toy_csv(tmp_path / "new.csv", n=4)), "--out", str(tmp_path / "p.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert [ln for ln in err if "error" in ln.lower()] == err[-1:] and msg.format(exp=exp) in err[-1], err
    assert not (tmp_path / "p.csv").exists()
