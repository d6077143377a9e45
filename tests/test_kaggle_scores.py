"""CV against the leaderboard through the CLI: `kaggle submit` tags the experiment, `kaggle scores` reads the real
CLI's submissions listing from the stub and joins it to `outputs/results.csv`."""

import csv

import numpy as np
import pytest
from helpers import kaggle_cli as cli
from kaggle_stub import KaggleStub, set_env

pytestmark = pytest.mark.skipif(__import__("importlib").util.find_spec("kaggle") is None, reason="kaggle not installed")
COMP = "us-patent-phrase-to-phrase-matching"


@pytest.fixture
def stub(tmp_path, monkeypatch):
    with KaggleStub() as s:
        set_env(monkeypatch, tmp_path, s.proxy)
        monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path / "proj"))
        (tmp_path / "proj").mkdir()
        yield s


def write_results(root, rows):
    (root / "outputs").mkdir(parents=True, exist_ok=True)
    with open(root / "outputs" / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["experiment", "time", "pipeline", "metric", "score"])
        w.writeheader()
        w.writerows(rows)


def sub(ref, file, msg, public, private="", status="COMPLETE"):
    "One `ApiSubmission` as Kaggle sends it."
    return dict(ref=ref, fileName=file, date="2026-12-01T10:00:00.000Z", description=msg, status=status,
                publicScore=public, privateScore=private)  # fmt: skip


def test_submit_tags_the_message_with_the_experiment(stub, tmp_path, capsys):
    d = tmp_path / "proj"
    (d / "submissions").mkdir()
    (d / "sample.csv").write_text("id,score\na,0\nb,0\n")
    (d / "submissions" / "minilm-cross.csv").write_text("id,score\na,0.5\nb,0.25\n")
    write_results(d, [dict(experiment="minilm-cross", time="t", pipeline="patents", metric="pearson", score="0.8")])
    f = d / "submissions" / "minilm-cross.csv"
    rc, out, err = cli(capsys, "submit", "-c", COMP, "-f", f, "-m", "5 folds", "--sample", d / "sample.csv")
    assert rc == 0, err
    assert stub.api("CreateSubmission")[-1].json["submissionDescription"] == "5 folds [exp:minilm-cross]"
    assert "note:" not in err  # the experiment has a CV
    rc, out, err = cli(capsys, "submit", "-c", COMP, "-f", f, "-m", "rerun", "--sample", d / "sample.csv",
                       "--experiment", "other")  # fmt: skip
    assert rc == 0 and stub.api("CreateSubmission")[-1].json["submissionDescription"] == "rerun [exp:other]"
    assert "experiment 'other' has no row in outputs/results.csv" in err
    rc, out, err = cli(capsys, "submit", "-c", COMP, "-k", "stubuser/uspppm-infer", "-v", "3", "-m", "code")
    assert rc == 0 and stub.api("CreateCodeSubmission")[-1].json["submissionDescription"] == "code"  # no file stem


def test_scores_joins_the_listing_to_local_cv(stub, tmp_path, capsys):
    d = tmp_path / "proj"
    write_results(d, [dict(experiment=e, time="t", pipeline="patents", metric="pearson", score=s)
                      for e, s in [("a", "0.60"), ("b", "0.65"), ("c", "0.70"), ("a", "0.62")]])  # fmt: skip
    stub.submissions = [
        sub(5, "c.csv", "third [exp:c]", "0.80", "0.79"),
        sub(4, "submission.csv", "by kernel [exp:b]", "0.76", "0.74"),
        sub(3, "a.csv", "first", "0.70", "0.69"),
        sub(2, "x.csv", "by hand", "0.50"),
        sub(1, "p.csv", "pending [exp:c]", None, None, status="PENDING"),
    ]
    rc, out, err = cli(capsys, "scores", "-c", COMP)
    assert rc == 0, err
    [call] = stub.api("ListSubmissions")
    assert call.json["competitionName"] == COMP and call.json["pageSize"] == 100
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["experiment", "cv", "public", "private"]
    assert lines[1].split()[:4] == ["c", "0.7000", "0.8000", "0.7900"]
    assert lines[3].split()[:4] == ["a", "0.6200", "0.7000", "0.6900"]  # a's latest CV, found by the file name
    assert lines[4].split()[:3] == ["x", "-", "0.5000"] and "PENDING" in lines[5]
    cv, pub = np.array([0.70, 0.65, 0.62]), np.array([0.80, 0.76, 0.70])
    assert f"CV-public LB correlation over 3 submissions: Pearson {np.corrcoef(cv, pub)[0, 1]:.3f}" in out
    assert "CV-private LB correlation over 3 submissions" in out
    assert "no CV in outputs/results.csv for: x" in err
    png = d / "outputs" / "cv_lb.png"
    assert f"wrote {png}" in out and png.read_bytes()[:4] == b"\x89PNG"


def test_scores_before_any_private_score_or_submission(stub, tmp_path, capsys):
    write_results(tmp_path / "proj", [dict(experiment="a", time="t", pipeline="patents", metric="pearson", score="1")])
    rc, out, err = cli(capsys, "scores", "-c", COMP)
    assert rc == 0 and f"no submissions to {COMP} yet" in out
    stub.submissions = [sub(1, "a.csv", "x", "0.7")]
    rc, out, err = cli(capsys, "scores", "-c", COMP, "--plot", tmp_path / "p.png", "--page-size", "5")
    assert rc == 0, err
    assert "needs 3 submissions with both a local CV and a public score, 1 have both" in out
    assert "CV-private" not in out  # no private line while the private scores are hidden
    assert (tmp_path / "p.png").is_file() and stub.api("ListSubmissions")[-1].json["pageSize"] == 5


def test_a_file_outside_submissions_is_sent_untagged(stub, tmp_path, capsys):
    d = tmp_path / "proj"
    (d / "sample.csv").write_text("id,score\na,0\n")
    (d / "submission.csv").write_text("id,score\na,0.5\n")
    rc, _, err = cli(capsys, "submit", "-c", COMP, "-f", d / "submission.csv", "-m", "plain", "--sample",
                     d / "sample.csv")  # fmt: skip
    assert rc == 0, err
    assert stub.api("CreateSubmission")[-1].json["submissionDescription"] == "plain" and "note:" not in err
