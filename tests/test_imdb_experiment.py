"""The IMDb pipelines on the shared experiment record: a rerun resumes only with the same data content and every
setting (one added later included), `--overwrite` starts over, and one run at a time writes an experiment."""

import dataclasses
import json
import subprocess
import sys
import time

import pandas as pd
import pytest
from helpers import IMDB_TINY, IMDB_TINY_KW

from kagglenlp.cli import main
from kagglenlp.errors import UserError
from kagglenlp.experiment import fingerprint, open_experiment
from kagglenlp.imdb import pipeline
from kagglenlp.imdb.config import UlmfitConfig
from kagglenlp.imdb.toy import write_toy_corpus, write_toy_csv, write_toy_folder
from kagglenlp.results_table import read_results

TINY = IMDB_TINY
TINY_KW = IMDB_TINY_KW


@pytest.fixture
def record_only(monkeypatch):
    "Skip the training inside `train` (tokenizing, checks and the experiment record still run): for refusal tests."
    monkeypatch.setattr(pipeline, "_train", lambda *a, **k: {"trained": False})


def files(d):
    "Every file under `d` with its bytes."
    return {p: p.read_bytes() for p in d.rglob("*") if p.is_file()}


def train(*argv):
    "`kagglenlp imdb train` with tiny settings and `argv`; returns the exit code."
    return main(["imdb", "train", *TINY, *argv])


def last_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: "), err
    return err[-1]


def test_setting_added_later_is_compared_by_default(root, record_only):
    csv = write_toy_csv(root / "s.csv", n=16)
    assert pipeline.train(UlmfitConfig(data=str(csv), name="k", **TINY_KW)) == {"trained": False}
    field = ("new_knob", int, dataclasses.field(default=0))
    Later = dataclasses.make_dataclass("Later", [field], bases=(UlmfitConfig,), kw_only=True)
    with pytest.raises(UserError, match=r"other settings \(new_knob: None -> 0\)"):
        pipeline.train(Later(data=str(csv), name="k", **TINY_KW))  # the old record never had it
    pipeline.train(Later(data=str(csv), name="k2", new_knob=1, **TINY_KW))
    with pytest.raises(UserError, match=r"other settings \(new_knob: 1 -> 2\)"):
        pipeline.train(Later(data=str(csv), name="k2", new_knob=2, **TINY_KW))
    assert pipeline.train(Later(data=str(csv), name="k2", new_knob=1, **{**TINY_KW, "threads": 2}))
    rec = json.loads((root / "outputs" / "k2" / "experiment.json").read_text())
    assert rec["settings"]["new_knob"] == 1 and "threads" in rec["ignored_on_resume"]


def test_edited_data_refused_moved_data_resumes(root, record_only, capsys):
    csv = write_toy_csv(root / "s.csv", n=16)
    assert train("--data", str(csv), "--name", "d") == 0
    before = files(root / "outputs" / "d")
    df = pd.read_csv(csv)
    swapped = df.assign(label=df.label.map({"pos": "neg", "neg": "pos"}))
    for name, edited in (
        ("labels", swapped),
        ("split", df.assign(is_valid=df.is_valid | (df.index == 0))),
        ("one text", df.assign(text=df.text.where(df.index != 3, "A different review."))),
    ):
        edited.to_csv(root / "edited.csv", index=False)
        assert train("--data", str(root / "edited.csv"), "--name", "d") == 2, name
        assert "input data of experiment 'd' changed since it was started (texts)" in last_error(capsys), name
    assert files(root / "outputs" / "d") == before
    df.to_csv(root / "moved.csv", index=False)  # same content under another path: the same experiment
    assert train("--data", str(root / "moved.csv"), "--name", "d") == 0
    assert "resuming experiment 'd'" in capsys.readouterr().out


def test_edited_folder_refused(root, record_only, capsys):
    acl = write_toy_folder(root / "acl", n_train=8, n_test=8, n_unsup=2)
    assert train("--data", str(acl), "--name", "f") == 0
    next((acl / "train" / "pos").glob("*.txt")).rename(acl / "train" / "neg" / "moved.txt")
    assert train("--data", str(acl), "--name", "f") == 2
    assert "input data of experiment 'f' changed" in last_error(capsys)


@pytest.mark.e2e  # trains end to end
def test_overwrite_starts_over_with_new_data_and_settings(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=16)
    assert train("--data", str(csv), "--name", "o") == 0
    exp = root / "outputs" / "o"
    old_lm = (exp / "models" / "lm_fwd_1_unfrozen.pth").read_bytes()
    (exp / "stray.txt").write_text("from the first run")
    df = pd.read_csv(csv)
    df.assign(label=df.label.map({"pos": "neg", "neg": "pos"})).to_csv(csv, index=False)
    new = ["--data", str(csv), "--name", "o", "--lm-lrs", "1e-2", "1e-3"]
    assert train(*new) == 2 and "--overwrite" in last_error(capsys)
    capsys.readouterr()
    assert train(*new, "--overwrite") == 0
    out = capsys.readouterr().out
    assert "lm_fwd_0_frozen:" in out and "resuming" not in out  # every stage trained again
    assert not (exp / "stray.txt").exists() and (exp / "models" / "lm_fwd_1_unfrozen.pth").read_bytes() != old_lm
    rec = json.loads((exp / "experiment.json").read_text())
    assert rec["settings"]["lm_lrs"] == [1e-2, 1e-3] and rec["settings"]["overwrite"] is True
    assert json.loads((exp / "metrics.json").read_text())["stages"]["lm_fwd_0_frozen"]["lr"] == 1e-2
    rows = [r for r in read_results() if r["experiment"] == "o"]
    assert len(rows) == 2 and rows[1]["pipeline"] == "imdb" and rows[1]["metric"] == "accuracy"
    assert train(*new) == 0 and "resuming experiment 'o'" in capsys.readouterr().out  # --overwrite is not a setting


@pytest.mark.e2e  # trains end to end
def test_pretrain_resumes_refuses_and_overwrites(root, capsys):
    corpus = write_toy_corpus(root / "c.txt")
    args = ["imdb", "pretrain", "--corpus", str(corpus), "--name", "p", "--epochs", "1", *TINY[:14]]
    assert main(args) == 0
    pre = root / "outputs" / "p"
    before = files(pre)
    assert main(args) == 0 and "already holds this pretrained LM" in capsys.readouterr().out
    assert files(pre) == before
    assert main([*args, "--epochs", "2"]) == 2 and "other settings (epochs: 1 -> 2)" in last_error(capsys)
    corpus.write_text(corpus.read_text().replace("great", "fine"))
    assert main(args) == 2 and "input data of experiment 'p' changed" in last_error(capsys)
    assert files(pre) == before
    assert main([*args, "--epochs", "2", "--backwards", "--overwrite"]) == 0
    m = json.loads((pre / "metrics.json").read_text())
    assert m["epochs"] == 2 and {"fwd", "bwd"} <= set(m) and (pre / "lstm_bwd.pth").exists()
    assert (pre / "lstm_fwd.pth").read_bytes() != before[pre / "lstm_fwd.pth"]


def test_run_refused_while_another_holds_the_experiment(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=16)
    with open_experiment("h", "imdb", {}, fingerprint()):
        assert train("--data", str(csv), "--name", "h") == 2
        err = last_error(capsys)
        assert "experiment 'h' is being written by another run" in err and "pid" in err
        assert sorted(p.name for p in (root / "outputs" / "h").iterdir()) == ["experiment.json"]


@pytest.mark.e2e  # trains in a CLI subprocess
def test_concurrent_runs_one_refused_the_other_whole(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=16)
    first = [*TINY[:-6], "--lm-epochs", "1", "4", "--clas-epochs", "1", "1", "1", "2"]  # long enough to overlap
    cmd = [sys.executable, "-m", "kagglenlp", "imdb", "train", "--data", str(csv), "--name", "c", *first]
    a = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    owner = root / "outputs" / ".locks" / "c.owner"
    t0 = time.time()
    while not owner.exists() and a.poll() is None and time.time() - t0 < 240:
        time.sleep(0.2)
    try:
        assert main(["imdb", "train", "--data", str(csv), "--name", "c", *TINY, "--lm-lrs", "1e-2", "1e-3"]) == 2
        err = last_error(capsys)
        assert a.poll() is None, "the first run ended before the second started: no overlap was tested"
    finally:
        out, stderr = a.communicate(timeout=600)
    assert f"experiment 'c' is being written by another run (pid {a.pid}" in err
    assert a.returncode == 0, stderr[-2000:]
    exp = root / "outputs" / "c"
    assert json.loads((exp / "experiment.json").read_text())["settings"]["lm_epochs"] == [1, 4]
    stages = json.loads((exp / "metrics.json").read_text())["stages"]
    assert stages["lm_fwd_1_unfrozen"]["epochs"] == 4 and stages["lm_fwd_1_unfrozen"]["lr"] == 2e-3
    assert stages["clas_fwd_3_all"]["epochs"] == 2 and (exp / "classifier_fwd.pkl").exists()
    assert [r["experiment"] for r in read_results()] == ["c"]


@pytest.mark.e2e  # subprocesses, real waits or training
def test_rerun_of_a_finished_experiment_writes_nothing(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=16)
    assert train("--data", str(csv), "--name", "r") == 0
    exp = root / "outputs" / "r"
    clf = exp / "classifier_fwd.pkl"
    before, stamp, rows = files(exp), clf.stat().st_mtime_ns, read_results()
    capsys.readouterr()
    assert train("--data", str(csv), "--name", "r") == 0
    assert read_results() == rows and [r["experiment"] for r in rows] == ["r"]  # one row, not two
    assert "experiment 'r' is finished" in capsys.readouterr().out
    assert clf.stat().st_mtime_ns == stamp and files(exp) == before  # the export and metrics left alone
    (root / "outputs" / "results.csv").unlink()  # the first run's end died before its row: the rerun writes it
    assert train("--data", str(csv), "--name", "r") == 0 and read_results() == rows
