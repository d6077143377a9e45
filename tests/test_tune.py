"""`kagglenlp patents tune`: trials are experiments on the same folds, pruned per fold, resumable, shared by workers."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import one_error_line

from kagglenlp.cli import main
from kagglenlp.experiment import read_results
from kagglenlp.patents.configs import patents_config
from kagglenlp.patents.demo import write_demo
from kagglenlp.patents.tune import parse_param

optuna = pytest.importorskip("optuna")
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@pytest.fixture
def base(proj):
    "A tiny base config (MiniLM bi-encoder, 2 folds of 200 rows, 1 step) on the demo data."
    d = write_demo(proj / "input" / "demo")
    p = proj / "base.toml"
    p.write_text(f'data = "{d}"\nmodel = "minilm"\nfolds = 2\nmax_rows = 200\nmax_steps = 1\nbs = 8\nseed = 0\n')
    return p


def study_of(proj, name="base-tune", url=None):
    return optuna.load_study(study_name=name, storage=url or f"sqlite:///{proj / 'outputs' / 'optuna.db'}")


def enqueue(proj, *max_lens, name="base-tune"):
    "Create the study in the default storage (if needed) and queue trials with these `max_len` values."
    (proj / "outputs").mkdir(exist_ok=True)
    url = f"sqlite:///{proj / 'outputs' / 'optuna.db'}"
    s = optuna.create_study(study_name=name, storage=url, direction="maximize", load_if_exists=True)
    for m in max_lens:
        s.enqueue_trial({"max_len": m})


@pytest.mark.parametrize(
    "spec,message",
    [
        ("lr", "should be NAME=KIND:ARGS"),
        ("lrr=loguniform:1e-5:1e-3", "unknown setting 'lrr'; did you mean 'lr'?"),
        ("lr=gauss:1:2", "unknown kind 'gauss'"),
        ("lr=loguniform:1e-3:1e-5", "LO must be below HI"),
        ("lr=loguniform:0:1e-3", "a log scale needs LO > 0"),
        ("lr=uniform:a:1", "'a' is not a float"),
        ("pool=choice:cls,max", "'max' is not one of cls, mean, attention"),
        ("pool=uniform:0:1", "pool is not a number"),
        ("seed=int:1:5", "seed defines the folds"),
        ("bs=uniform:8:16", "bs is an integer; use int or logint"),
    ],
)
def test_bad_param_specs_are_one_error_line(base, capsys, spec, message):
    assert main(["patents", "tune", "--config", str(base), "--param", spec]) == 2
    assert message in one_error_line(capsys)
    assert not (base.parent / "outputs" / "optuna.db").exists()  # refused before the study is created


def test_param_kinds():
    assert parse_param("bs=choice:8,16").args == (8, 16)
    assert parse_param("epochs=uniform:1:3").args == (1.0, 3.0)
    assert parse_param("max_len=logint:16:64").kind == "logint"


def test_sweep_prunes_then_resumes_an_interrupted_trial(base, proj, capsys, monkeypatch):
    import kagglenlp.patents.run as run

    grid = ["--param", "max_len=choice:64,32,2"]
    # max_len 2 leaves [CLS] [SEP]: every phrase embeds the same, a constant prediction (Pearson NaN): pruned
    enqueue(proj, 64, 32, 2)
    assert main(["patents", "tune", "--config", str(base), "--trials", "3", "--startup", "2", *grid]) == 0
    out = capsys.readouterr().out
    trials = study_of(proj).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert "trial 2 (base-tune-t002) pruned after fold 0" in out
    assert not (proj / "outputs" / "base-tune-t002" / "fold1").exists()  # pruned before its second fold
    rows = {r["experiment"] for r in read_results(proj / "outputs" / "results.csv")}
    assert rows == {"base-tune-t000", "base-tune-t001"}
    f = [pd.read_csv(proj / "outputs" / f"base-tune-t00{k}" / "folds.csv") for k in range(3)]
    assert f[0].equals(f[1]) and f[0].equals(f[2])  # every trial on the same folds
    best = max(trials[:2], key=lambda t: t.value)
    cfg = patents_config(proj / "outputs" / "base-tune-best.toml")
    assert cfg.max_len == best.params["max_len"] and cfg.max_rows == 200 and cfg.name == "base-tune-best"

    # interrupted during trial 3's second fold (Ctrl-C): the trial fails, its first fold stays
    enqueue(proj, 32)
    calls = []
    real = run.run_experiment

    def interrupted(cfg):
        calls.append(cfg.fold)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(cfg)

    monkeypatch.setattr(run, "run_experiment", interrupted)
    assert main(["patents", "tune", "--config", str(base), "--trials", "4", "--startup", "10", *grid]) == 130
    monkeypatch.setattr(run, "run_experiment", real)
    fold0 = proj / "outputs" / "base-tune-t003" / "fold0" / "done.json"
    first = proj / "outputs" / "base-tune-t000" / "fold0" / "done.json"
    stamps = fold0.stat().st_mtime_ns, first.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["patents", "tune", "--config", str(base), "--trials", "4", "--startup", "10", *grid]) == 0
    out = capsys.readouterr().out
    assert "3 of 4 trials finished, 1 interrupted trial(s) queued again" in out
    assert re.search(r"experiment base-tune-t003: \d+ train rows, 2 folds, to train: \[1\]\n", out), out  # fold 0 kept
    assert (fold0.stat().st_mtime_ns, first.stat().st_mtime_ns) == stamps  # nothing finished is retrained
    trials = study_of(proj).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED", "FAIL", "COMPLETE"]
    assert trials[4].user_attrs["experiment"] == "base-tune-t003"
    assert main(["patents", "tune", "--config", str(base), "--trials", "4", *grid]) == 0  # done: nothing to run
    assert "4 of 4 trials finished" in capsys.readouterr().out


def test_two_workers_share_one_study(base, proj, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    cmd = [sys.executable, "-m", "kagglenlp", "patents", "tune", "--config", str(base), "--trials", "2"]
    cmd += ["--param", "max_len=choice:64,32", "--startup", "10", "--storage", url, "--study", "shared"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    procs = [subprocess.Popen(cmd, cwd=proj, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs[0][-2000:] + outs[1][-2000:]
    trials = study_of(proj, "shared", url).get_trials(states=FINISHED)
    names = [t.user_attrs["experiment"] for t in trials]
    assert len(trials) >= 2 and len(set(names)) == len(names)
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers ran trials of the one study
    rows = {r["experiment"] for r in read_results(proj / "outputs" / "results.csv")}
    assert set(names) <= rows
