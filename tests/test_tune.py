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
from kagglenlp.errors import UserError
from kagglenlp.patents.config import patents_config
from kagglenlp.patents.data import write_demo
from kagglenlp.patents.tune import parse_param
from kagglenlp.results_table import read_results

optuna = pytest.importorskip("optuna")
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@pytest.fixture
def base(proj):
    "A tiny base config (MiniLM bi-encoder, 2 folds of 200 rows, 1 step at full LR: no warmup) on the demo data."
    d = write_demo(proj / "input" / "demo")
    p = proj / "base.toml"
    p.write_text(
        f'data = "{d}"\nmodel = "minilm"\nfolds = 2\nmax_rows = 200\nmax_steps = 1\nwarmup = 0\nbs = 8\nseed = 0\n'
    )
    return p


def study_of(proj, name="base-tune", url=None):
    return optuna.load_study(study_name=name, storage=url or f"sqlite:///{proj / 'outputs' / 'optuna.db'}")


def enqueue(proj, *lrs, name="base-tune"):
    "Create the study in the default storage (if needed) and queue trials with these `lr` values."
    (proj / "outputs").mkdir(exist_ok=True)
    url = f"sqlite:///{proj / 'outputs' / 'optuna.db'}"
    s = optuna.create_study(study_name=name, storage=url, direction="maximize", load_if_exists=True)
    for lr in lrs:
        s.enqueue_trial({"lr": lr})


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


@pytest.mark.e2e  # subprocesses, real waits or training
def test_a_fold_that_cannot_score_fails_its_trial_not_the_sweep(base, proj, capsys, monkeypatch):
    import kagglenlp.patents.run as run

    def constant(cfg):
        raise UserError(f"fold {cfg.fold}'s predictions are constant, so its Pearson is undefined")

    monkeypatch.setattr(run, "run_experiment", constant)
    args = ["patents", "tune", "--config", str(base), "--trials", "2", "--param", "lr=loguniform:1e-5:1e-3"]
    assert main(args) == 0  # the sweep goes on past each failed trial
    out = capsys.readouterr().out
    assert "trial 0 (base-tune-t000) failed: fold 0's predictions are constant" in out
    assert "no trial has completed yet" in out
    trials = study_of(proj).trials
    assert [t.state.name for t in trials] == ["FAIL", "FAIL"]
    assert all("predictions are constant" in t.user_attrs["error"] for t in trials)
    assert not (proj / "outputs" / "base-tune-best.toml").exists()
    assert main(args) == 0  # refused trials are not queued again, nor counted as finished
    assert "0 of 2 trials finished;" in capsys.readouterr().out


@pytest.mark.e2e
def test_sweep_prunes_then_resumes_an_interrupted_trial(base, proj, capsys, monkeypatch):
    import kagglenlp.patents.run as run

    grid = ["--param", "lr=loguniform:1e-5:1e-1"]
    # one full-LR step (no warmup): at 2e-4 the pretrained encoder moves a little, at 2e-3 it is knocked off course
    # (fold 0: 0.65 against 0.43 on this data); at 1e-2 the predictions turn constant (a failed trial, not a pruned one)
    enqueue(proj, 2e-4, 2e-3)
    assert main(["patents", "tune", "--config", str(base), "--trials", "2", "--startup", "1", *grid]) == 0
    out = capsys.readouterr().out
    trials = study_of(proj).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED"], out
    assert trials[1].user_attrs["fold0"] < trials[0].user_attrs["fold0"] - 0.05
    assert "trial 1 (base-tune-t001) pruned after fold 0" in out
    assert not (proj / "outputs" / "base-tune-t001" / "fold1").exists()  # pruned before its second fold
    rows = {r["experiment"] for r in read_results(proj / "outputs" / "results.csv")}
    assert rows == {"base-tune-t000"}
    f = [pd.read_csv(proj / "outputs" / f"base-tune-t00{k}" / "folds.csv") for k in range(2)]
    assert f[0].equals(f[1])  # every trial on the same folds
    cfg = patents_config(proj / "outputs" / "base-tune-best.toml")
    assert cfg.lr == 2e-4 and cfg.max_rows == 200 and cfg.name == "base-tune-best"

    # interrupted during trial 2's second fold (Ctrl-C): the trial fails, its first fold stays
    enqueue(proj, 2e-4)
    calls = []
    real = run.run_experiment

    def interrupted(cfg):
        calls.append(cfg.fold)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(cfg)

    monkeypatch.setattr(run, "run_experiment", interrupted)
    assert main(["patents", "tune", "--config", str(base), "--trials", "3", "--startup", "10", *grid]) == 130
    monkeypatch.setattr(run, "run_experiment", real)
    fold0 = proj / "outputs" / "base-tune-t002" / "fold0" / "done.json"
    first = proj / "outputs" / "base-tune-t000" / "fold0" / "done.json"
    stamps = fold0.stat().st_mtime_ns, first.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["patents", "tune", "--config", str(base), "--trials", "3", "--startup", "10", *grid]) == 0
    out = capsys.readouterr().out
    assert "2 of 3 trials finished, 1 interrupted trial(s) queued again" in out
    assert re.search(r"experiment base-tune-t002: \d+ train rows, 2 folds, to train: \[1\]\n", out), out  # fold 0 kept
    assert (fold0.stat().st_mtime_ns, first.stat().st_mtime_ns) == stamps  # nothing finished is retrained
    trials = study_of(proj).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED", "FAIL", "COMPLETE"]
    assert trials[3].user_attrs["experiment"] == "base-tune-t002"
    assert main(["patents", "tune", "--config", str(base), "--trials", "3", *grid]) == 0  # done: nothing to run
    assert "3 of 3 trials finished" in capsys.readouterr().out


@pytest.mark.e2e
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
