"""`kagglenlp results`: the leaderboard table from outputs/results.csv, its filters, and `--diff A B`."""

import pytest
from helpers import one_error_line

from kagglenlp.cli import main
from kagglenlp.experiment import open_experiment
from kagglenlp.results_cli import fold_spread, results_table
from kagglenlp.results_table import append_result


def make(name, pipeline="patents", score=0.5, cv_folds="", **settings):
    "A finished experiment `name`: its experiment.json and one results row."
    base = dict(model="minilm", arch="bi", lr=1e-4, bs=8, text="seed", folds=3)
    with open_experiment(name, pipeline, {**base, **settings}, {"all": "d1"}) as exp:
        exp.result("pearson", score, model="minilm", cv_folds=cv_folds, seconds=12.5)


def test_table_sorted_best_first_latest_row_per_experiment(proj, capsys):
    make("a", score=0.61, cv_folds="0.6000 0.6200 0.6100")
    make("b", score=0.72, arch="cross", lr=8e-5)
    make("c", pipeline="imdb", score=0.9)
    append_result("a", "patents", "pearson", 0.65)  # a later result of `a` replaces its first
    assert main(["results"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["experiment", "pipeline", "metric", "score"]
    assert [ln.split()[0] for ln in lines[1:]] == ["c", "b", "a"]
    assert "0.6500" in lines[3] and "lr=8e-05" in lines[2] and "cross" in lines[2]
    assert main(["results", "--pipeline", "patents", "--name", "b*"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in out[1:]] == ["b"]


def test_fold_spread_and_frame(proj):
    assert fold_spread("0.6 0.62 0.61") == pytest.approx(0.01) and fold_spread("") is None
    rows = [dict(experiment="x", pipeline="patents", metric="pearson", score="0.5", cv_folds="0.4 0.6", time="t")]
    df = results_table(rows, {"x": {"settings": {"arch": "bi", "lr": 2e-4, "text": "seed"}}})
    assert df.loc[0, "folds±"] == f"±{fold_spread('0.4 0.6'):.4f}" and df.loc[0, "settings"] == "text=seed lr=0.0002"
    loss = [dict(experiment=n, pipeline="p", metric="loss", score=s) for n, s in (("hi", "2"), ("lo", "1"))]
    assert results_table(loss, {})["experiment"].tolist() == ["lo", "hi"]  # a loss: lower is better


def test_diff_shows_only_differing_settings(proj, capsys):
    make("a")
    make("b", arch="cross", lr=8e-5)
    assert main(["results", "--diff", "a", "b"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["setting", "a", "b"]
    assert sorted(ln.split()[0] for ln in out[1:]) == ["arch", "lr"]
    assert main(["results", "--diff", "a", "a"]) == 0
    assert "same settings" in capsys.readouterr().out


def test_errors(proj, capsys):
    assert main(["results"]) == 2
    assert "no results yet" in one_error_line(capsys)
    make("a")
    assert main(["results", "--diff", "a", "nope"]) == 2
    assert "no experiment 'nope'" in one_error_line(capsys)
    assert main(["results", "--diff", "a"]) == 2
    assert "two experiment names" in one_error_line(capsys)
