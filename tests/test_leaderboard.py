"""The pure part of `kaggle scores`: submissions listing joined to local CV, the CV-LB correlation, the scatter."""

import numpy as np
import pytest

from kagglenlp.leaderboard import cv_lb_correlation, experiment_of, join_cv, parse_submissions, plot_cv_lb, tag_message

# `kaggle competitions submissions -c C --csv` (kaggle 2.2.5's `submission_fields`); the pending one has no score
LISTING = """ref,fileName,date,description,status,publicScore,privateScore
101,c.csv,2026-12-01 10:00:00,retrained [exp:c],SubmissionStatus.COMPLETE,0.80,0.79
102,b.csv,2026-11-30 10:00:00,second try,SubmissionStatus.COMPLETE,0.75,0.74
103,a.csv,2026-11-29 10:00:00,first [exp:a],SubmissionStatus.COMPLETE,0.70,
104,x.csv,2026-11-28 10:00:00,by hand,SubmissionStatus.COMPLETE,0.50,
105,p.csv,2026-12-01 11:00:00,new [exp:b],SubmissionStatus.PENDING,,
"""
RESULTS = [
    dict(experiment="a", metric="pearson", score="0.60"),
    dict(experiment="b", metric="pearson", score="0.65"),
    dict(experiment="c", metric="pearson", score="0.70"),
    dict(experiment="a", metric="pearson", score="0.61"),  # a's latest result
]


def test_tag_and_find_the_experiment():
    assert tag_message("5 folds", "minilm-cross") == "5 folds [exp:minilm-cross]"
    assert tag_message("x [exp:a]", "b") == "x [exp:a]"  # already tagged: unchanged
    assert experiment_of("5 folds [exp:minilm-cross] rerun") == "minilm-cross"
    assert experiment_of("no tag", "submissions/bi.csv") == "bi" and experiment_of("no tag") is None


def test_parse_submissions_columns_and_scores():
    df = parse_submissions(LISTING)
    assert list(df.columns) == ["file", "date", "message", "status", "public", "private"]
    assert df["public"].tolist()[:4] == [0.80, 0.75, 0.70, 0.50] and np.isnan(df["public"].iloc[4])
    old = "fileName,date,description,status,publicScore\nq.csv,d,m,complete,0.1\n"  # no private column (1.x)
    assert np.isnan(parse_submissions(old)["private"].iloc[0])


def test_join_cv_and_correlation(tmp_path):
    df = join_cv(parse_submissions(LISTING), RESULTS)
    assert df["experiment"].tolist() == ["c", "b", "a", "x", "b"]  # tag, file name, tag, file name, tag
    assert df["cv"].tolist()[:3] == [0.70, 0.65, 0.61] and np.isnan(df["cv"].iloc[3])
    r = cv_lb_correlation(df)
    known = df.dropna(subset=["cv", "public"])
    assert r["n"] == 3 and r["pearson"] == pytest.approx(np.corrcoef(known["cv"], known["public"])[0, 1])
    assert r["spearman"] == pytest.approx(1.0)
    assert cv_lb_correlation(df, "private") is None  # two private scores: too few
    fig = plot_cv_lb(df, tmp_path / "out" / "cv_lb.png")
    assert (tmp_path / "out" / "cv_lb.png").stat().st_size > 0
    assert len(fig.axes[0].collections) == 2  # public and private points
