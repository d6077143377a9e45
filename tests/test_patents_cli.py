"""End to end through the `kagglenlp patents` CLI on the generated demo data with the real MiniLM backbone."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers import PATENTS_TINY, patents
from helpers import PATENTS_TINY_CROSS as TINY
from scipy.stats import pearsonr

from kagglenlp.cli import main
from kagglenlp.patents.data import demo_frames, write_demo
from kagglenlp.results_table import read_results


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    "One tiny 3-fold experiment (2 steps per fold), trained once for the module; yields its project root."
    root = tmp_path_factory.mktemp("proj")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAGGLENLP_ROOT", str(root))
        mp.chdir(root)
        d = write_demo(root / "input" / "demo")
        assert patents("train", "--data", d, *TINY, "--text", "cpc-siblings", "--name", "tiny") == 0
        yield root


@pytest.mark.e2e  # trains end to end
def test_outputs_and_formats(tiny):
    out, (trn, tst, sample) = tiny / "outputs" / "tiny", demo_frames()
    rec = json.loads((out / "experiment.json").read_text())
    assert rec["name"] == "tiny" and rec["pipeline"] == "patents"
    assert rec["settings"]["text"] == "cpc-siblings" and rec["settings"]["folds"] == 3
    assert set(rec["data"]) == {"train", "test", "sample", "all"}
    folds = pd.read_csv(out / "folds.csv")
    assert (folds.groupby("anchor").fold.nunique() == 1).all()
    oof = pd.read_csv(out / "oof.csv")
    assert list(oof.columns) == ["id", "fold", "pred", "score"]
    assert sorted(oof.id) == sorted(trn.id) and oof.pred.between(0, 1).all()
    assert dict(zip(oof.id, oof.fold)) == dict(zip(folds.id, folds.fold))
    cv = json.loads((out / "cv.json").read_text())
    assert set(cv["folds"]) == {"0", "1", "2"} and np.isfinite(cv["pearson"])
    assert cv["pearson"] == pytest.approx(pearsonr(oof.pred, oof.score).statistic)
    tp = pd.read_csv(out / "test_preds.csv")
    assert list(tp.columns) == ["id", "fold0", "fold1", "fold2"] and sorted(tp.id) == sorted(tst.id)
    for k in range(3):
        fd = out / f"fold{k}"
        assert (
            (fd / "config.json").exists() and (fd / "model.safetensors").exists() and (fd / "tokenizer.json").exists()
        )
        assert json.loads((fd / "input_format.json").read_text())["text"] == "cpc-siblings"
    sub = pd.read_csv(tiny / "submissions" / "tiny.csv")
    assert sub.id.tolist() == sample.id.tolist() and sub.score.between(0, 1).all() and sub.score.notna().all()
    assert np.allclose(sub.score, np.clip(tp.set_index("id").mean(axis=1)[sample.id].values, 0, 1))
    row = read_results(tiny / "outputs" / "results.csv")[-1]
    assert list(row)[:5] == ["experiment", "time", "pipeline", "metric", "score"]
    assert row["experiment"] == "tiny" and row["model"] == "minilm" and row["folds"] == "3"
    assert row["metric"] == "pearson" and row["pipeline"] == "patents"
    assert float(row["score"]) == pytest.approx(cv["pearson"], abs=1e-4) and len(row["cv_folds"].split()) == 3


@pytest.mark.e2e  # trains end to end
def test_rerun_with_changed_predictions_ends_with_a_new_result(proj):
    """A finished experiment whose fold predictions changed (a deleted fold retrained on a GPU is not bit-exact) is
    rerun: the result files and the submission follow the new predictions and the table gets the new result's row
    (it crashed with `KeyError: 'experiment'` when two modules wrote `result.json`)."""
    d, args = write_demo(proj / "input" / "demo"), ("--model", "minilm", *PATENTS_TINY[2:], "--name", "r")
    assert patents("train", "--data", d, *args) == 0
    assert patents("train", "--data", d, *args) == 0  # a plain rerun: all done, no second row
    assert [r["experiment"] for r in read_results()] == ["r"]
    tp = proj / "outputs" / "r" / "fold1" / "test_preds.csv"
    pd.read_csv(tp).assign(pred=lambda f: f["pred"] * 0.5).to_csv(tp, index=False)
    assert patents("train", "--data", d, *args) == 0
    rows = read_results()
    assert [r["experiment"] for r in rows] == ["r", "r"] and rows[0]["score"] == rows[1]["score"]  # OOF unchanged
    tps = pd.read_csv(proj / "outputs" / "r" / "test_preds.csv")
    assert np.allclose(tps["fold1"], pd.read_csv(tp)["pred"])
    sub = pd.read_csv(proj / "submissions" / "r.csv")
    assert np.allclose(sub.score, np.clip(tps.set_index("id").mean(axis=1)[sub.id].values, 0, 1), atol=1e-6)


@pytest.mark.e2e  # trains end to end
def test_pair_input_trains_and_predict_reproduces_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    d = write_demo(tmp_path / "input" / "demo")
    assert patents("train", "--data", d, *TINY, "--folds", "2", "--text", "pair", "--name", "p") == 0
    fmt = json.loads((tmp_path / "outputs" / "p" / "fold0" / "input_format.json").read_text())
    assert fmt["text"] == "pair"
    assert patents("predict", "--data", d, "--models", "outputs/p", "--out", "pred.csv") == 0
    a, b = pd.read_csv(tmp_path / "pred.csv"), pd.read_csv(tmp_path / "submissions" / "p.csv")
    assert a.id.tolist() == b.id.tolist() and np.allclose(a.score, b.score, atol=1e-5)


@pytest.mark.e2e  # trains end to end
def test_predict_matches_training_submission(tiny, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    out = tiny / "pred.csv"
    assert patents("predict", "--data", "input/demo", "--models", "outputs/tiny", "--out", out) == 0
    a, b = pd.read_csv(out), pd.read_csv(tiny / "submissions" / "tiny.csv")
    assert a.id.tolist() == b.id.tolist() and np.allclose(a.score, b.score, atol=1e-5)
    before = out.read_bytes()
    assert patents("predict", "--data", "input/demo", "--models", "outputs/tiny", "--out", out) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before
    assert patents("predict", "--data", "input/demo", "--models", tiny / "nowhere", "--out", "x.csv") == 2
    assert "--models folder not found" in capsys.readouterr().err
    import shutil  # a fold from an interrupted run (no done.json) is never used

    shutil.copytree(tiny / "outputs" / "tiny" / "fold0", tiny / "half" / "fold0")
    (tiny / "half" / "fold0" / "done.json").unlink()
    assert patents("predict", "--data", "input/demo", "--models", tiny / "half", "--out", "y.csv") == 2
    assert "no finished fold models" in capsys.readouterr().err and not (tiny / "y.csv").exists()


@pytest.mark.e2e  # trains end to end
def test_resume_after_deleted_fold_and_settings_guard(tiny, monkeypatch, capsys):
    import shutil

    monkeypatch.setenv("KAGGLENLP_ROOT", str(tiny))
    monkeypatch.chdir(tiny)
    out = tiny / "outputs" / "tiny"
    keep = {k: (out / f"fold{k}" / "oof.csv").read_bytes() for k in (0, 2)}
    stamp = (out / "fold0" / "model.safetensors").stat().st_mtime_ns
    shutil.rmtree(out / "fold1")
    assert patents("train", "--data", "input/demo", *TINY, "--text", "cpc-siblings", "--name", "tiny") == 0
    log = capsys.readouterr().out
    assert "to train: [1]" in log
    assert (out / "fold1" / "done.json").exists() and (out / "fold0" / "model.safetensors").stat().st_mtime_ns == stamp
    assert all((out / f"fold{k}" / "oof.csv").read_bytes() == v for k, v in keep.items())
    assert len(pd.read_csv(out / "oof.csv")) == len(demo_frames()[0])
    # other settings under the same name: refused, nothing touched
    cv = (out / "cv.json").read_bytes()
    assert patents("train", "--data", "input/demo", *TINY, "--text", "seed", "--name", "tiny") == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "text: 'cpc-siblings' -> 'seed'" in err and "--overwrite" in err
    assert (out / "cv.json").read_bytes() == cv


@pytest.mark.e2e  # trains end to end
def test_single_fold_then_the_rest(proj, capsys):
    d = write_demo(proj / "input" / "demo")
    args = ["patents", "train", "--data", str(d), *TINY, "--name", "perfold"]
    assert main(args + ["--fold", "1"]) == 0
    out = proj / "outputs" / "perfold"
    assert (out / "fold1" / "done.json").exists() and not (out / "fold0").exists()
    assert (
        not (proj / "submissions" / "perfold.csv").exists() and "folds still missing: [0, 2]" in capsys.readouterr().out
    )
    assert main(args + ["--fold", "7"]) == 2 and "--fold 7 is not one of the folds" in capsys.readouterr().err


def _bad_case(d, case):
    trn, tst, sample = demo_frames()
    titles = None
    if case == "missing file":
        trn = None
    elif case == "missing column":
        trn = trn.drop(columns="context")
    elif case == "nan score":
        trn.loc[5, "score"] = np.nan
    elif case == "text score":
        trn["score"] = trn.score.astype(object)
        trn.loc[5, "score"] = "high"
    elif case == "score > 1":
        trn.loc[5, "score"] = 4
    elif case == "duplicate ids":
        trn.loc[5, "id"] = trn.id[6]
    elif case == "empty test":
        tst, sample = tst.iloc[:0], sample.iloc[:0]
    elif case == "sample ids differ":
        sample.loc[0, "id"] = "not-a-test-id"
    elif case == "context missing from titles":
        titles = {c: c for c in sorted(trn.context.unique())[1:]}
    d.mkdir(parents=True)
    if trn is not None:
        trn.to_csv(d / "train.csv", index=False)
    tst.to_csv(d / "test.csv", index=False)
    sample.to_csv(d / "sample_submission.csv", index=False)
    extra = ["--folds", "3"]
    if titles is not None:
        (d / "titles.json").write_text(json.dumps(titles))
        extra += ["--text", "cpc", "--titles", str(d / "titles.json")]
    if case == "more folds than anchors":
        extra = ["--folds", "500"]
    return extra


@pytest.mark.parametrize(
    "case,msg",
    [
        ("missing file", "file not found: .*train.csv"),
        ("missing column", r"train.csv lacks column\(s\) \['context'\]"),
        ("nan score", "1 missing or non-numeric score"),
        ("text score", "non-numeric score.*'high'"),
        ("score > 1", r"outside \[0, 1\]"),
        ("duplicate ids", "train.csv has 1 duplicate id"),
        ("empty test", "test.csv has no rows"),
        ("sample ids differ", "sample_submission.csv ids differ from test.csv"),
        ("context missing from titles", "context.* missing from the --titles file .*'A61'"),
        ("more folds than anchors", "--folds 500 is more than the 43 distinct anchors"),
    ],
)
def test_bad_input_clear_error_nothing_written(proj, capsys, case, msg):
    import re

    d = proj / "input" / "bad"
    extra = _bad_case(d, case)
    rc = patents("train", "--data", d, "--model", "minilm", "--name", "bad", *extra)
    err = capsys.readouterr().err
    assert rc == 2 and re.search(msg, err), err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not (proj / "outputs").exists() and not (proj / "submissions").exists()


def test_model_not_loadable_says_how_to_fix(proj, capsys):
    d = write_demo(proj / "input" / "demo")
    assert patents("train", "--data", d, "--model", proj / "no-such-model", "--name", "m") == 2
    err = capsys.readouterr().err
    assert f"--model folder not found: {proj / 'no-such-model'}" in err and "local folder" in err
    assert not (proj / "outputs").exists()
    assert patents("train", "--data", d, "--model", "microsoft/deberta-v3-small", "--name", "m") == 2
    err = capsys.readouterr().err
    assert "'microsoft/deberta-v3-small' is no local folder" in err and "HF_HUB_OFFLINE=1" in err
    assert not (proj / "outputs").exists()


def test_existing_submission_is_not_overwritten(proj, capsys):
    d = write_demo(proj / "input" / "demo")
    (proj / "submissions").mkdir()
    (proj / "submissions" / "mine.csv").write_text("precious")
    assert patents("train", "--data", d, *TINY, "--name", "mine") == 2
    assert (
        "mine.csv exists" in capsys.readouterr().err and (proj / "submissions" / "mine.csv").read_text() == "precious"
    )


@pytest.mark.e2e  # subprocesses, real waits or training
def test_console_script(proj):
    r = subprocess.run(["kagglenlp", "patents", "train", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--split {group,stratified-group,time}" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "kagglenlp.cli", "patents", "train", "--data", str(proj / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        f"error: --data folder not found: {proj / 'nowhere'}"
    ]


@pytest.mark.e2e  # trains end to end
def test_learns_on_demo(proj):
    "MiniLM really learns the demo's scoring rule: a clearly positive out-of-fold Pearson."
    d = write_demo(proj / "input" / "demo")
    assert (
        main(
            [
                "patents",
                "train",
                "--data",
                str(d),
                "--model",
                "minilm",
                "--folds",
                "2",
                "--epochs",
                "3",
                "--bs",
                "16",
                "--name",
                "learn",
            ]
        )
        == 0
    )
    cv = json.loads((proj / "outputs" / "learn" / "cv.json").read_text())
    assert cv["pearson"] > 0.3, cv


@pytest.mark.e2e  # trains end to end
def test_time_split_end_to_end(proj):
    "A dated competition: forward-chaining folds, each fold trained only on earlier dates, OOF only for validated rows."
    d = write_demo(proj / "input" / "dated")
    trn = pd.read_csv(d / "train.csv")
    trn["date"] = pd.Timestamp("2022-01-01") + pd.to_timedelta(np.arange(len(trn)) // 10, "D")
    trn.to_csv(d / "train.csv", index=False)
    assert (
        main(
            [
                "patents",
                "train",
                "--data",
                str(d),
                *TINY[:2],
                "--folds",
                "2",
                "--max-steps",
                "1",
                "--bs",
                "8",
                "--split",
                "time",
                "--gap",
                "1",
                "--name",
                "dated",
            ]
        )
        == 0
    )
    out = proj / "outputs" / "dated"
    folds = pd.read_csv(out / "folds.csv").merge(trn[["id", "date"]], on="id")
    oof = pd.read_csv(out / "oof.csv")
    assert set(oof.id) == set(folds.id[folds.fold >= 0]) and (folds.fold == -1).any()
    for k in (0, 1):
        val_start = pd.to_datetime(folds.date[folds.fold == k]).min()
        n_before_gap = (pd.to_datetime(trn.date) < val_start - pd.Timedelta(days=1)).sum()
        assert json.loads((out / f"fold{k}" / "done.json").read_text())["n_train"] == n_before_gap


def test_predict_out_folder_refused_before_inference(proj, capsys, monkeypatch):
    "Issue 18 item 11: `--out DIR --overwrite` is refused up front, naming --out (not a .tmp file after inference)."
    from kagglenlp.patents import predict

    d = write_demo(proj / "input" / "demo")
    (proj / "subdir").mkdir()
    monkeypatch.setattr(predict, "find_fold_dirs", lambda *a: pytest.fail("inference started"))
    argv = ["patents", "predict", "--data", str(d), "--models", "outputs", "--out", "subdir", "--overwrite"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out subdir is a folder" in err[0] and ".tmp" not in err[0]
    assert list((proj / "subdir").iterdir()) == []
