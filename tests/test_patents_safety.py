"""The patents CLI never gives a silent wrong result: bad models, edited data, concurrent runs, kills, file errors."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import PATENTS_TINY as TINY
from helpers import one_error_line as _err
from helpers import patents

from kagglenlp.cli import main
from kagglenlp.patents.models.backbone import TOKENIZER_FILES, resolve_model


def _train(d, name, *extra):
    return patents("train", "--data", d, *TINY, "--name", name, *extra)


def _nothing_written(proj):
    return not (proj / "outputs").exists() and not (proj / "submissions").exists()


def test_model_folder_without_tokenizer_is_refused(proj, demo, capsys):
    "A folder with config.json and weights but no tokenizer files would train on [UNK]s: refused up front."
    m = proj / "mymodel"
    shutil.copytree(resolve_model("minilm"), m)
    for f in TOKENIZER_FILES + ("special_tokens_map.json",):
        (m / f).unlink(missing_ok=True)
    assert patents("train", "--data", demo, "--model", m, "--name", "x") == 2
    err = _err(capsys)
    assert "holds no tokenizer files" in err and "tokenizer.save_pretrained" in err and _nothing_written(proj)


@pytest.mark.e2e  # trains end to end
def test_model_folder_with_only_config_fails_before_writing(proj, demo, capsys):
    m = proj / "cfgonly"
    m.mkdir()
    shutil.copy(Path(resolve_model("minilm")) / "config.json", m)
    shutil.copy(Path(resolve_model("minilm")) / "tokenizer.json", m)
    shutil.copy(Path(resolve_model("minilm")) / "tokenizer_config.json", m)
    assert patents("train", "--data", demo, "--model", m, "--name", "x") == 2
    assert "holds no weights" in _err(capsys) and _nothing_written(proj)
    shutil.copy(Path(resolve_model("minilm")) / "model.safetensors", m)  # the corrected rerun is not refused
    assert main(["patents", "train", "--data", str(demo), "--model", str(m), *TINY[2:], "--name", "x"]) == 0


def test_model_paths_clear_messages(proj, demo, capsys):
    assert patents("train", "--data", demo, "--model", "models/missing/here", "--name", "x") == 2
    assert f"--model folder not found: {proj / 'models/missing/here'}" in _err(capsys)
    assert patents("train", "--data", demo / "train.csv", "--model", "minilm") == 2
    assert "--data must be the competition folder" in _err(capsys) and _nothing_written(proj)


@pytest.mark.e2e  # trains end to end
@pytest.mark.parametrize("what", ["train scores", "test texts"])
def test_edited_data_under_the_same_name_is_refused(proj, demo, capsys, what):
    assert _train(demo, "e") == 0
    before = (proj / "submissions" / "e.csv").read_bytes()
    f = demo / ("train.csv" if what == "train scores" else "test.csv")
    df = pd.read_csv(f, dtype=str)
    col = "score" if what == "train scores" else "target"
    df[col] = df[col].iloc[::-1].values  # same ids, other content
    df.to_csv(f, index=False)
    assert _train(demo, "e") == 2
    err = _err(capsys)
    assert "input data of experiment 'e' changed" in err and "--overwrite" in err
    assert (proj / "submissions" / "e.csv").read_bytes() == before
    assert _train(demo, "e", "--overwrite") == 0


@pytest.mark.e2e  # trains end to end
def test_any_changed_setting_is_refused_and_overwrite_works(proj, demo, capsys):
    assert _train(demo, "s") == 0
    capsys.readouterr()
    assert _train(demo, "s", "--lr", "1e-3") == 2
    assert "lr: 0.0002 -> 0.001" in _err(capsys)  # the bi-encoder default LR is 2e-4
    assert _train(demo, "s", "--max-len", "64") == 2
    assert "max_len: 256 -> 64" in _err(capsys)
    assert _train(demo, "s", "--lr", "1e-3", "--overwrite") == 0
    rec = json.loads((proj / "outputs" / "s" / "experiment.json").read_text())
    assert rec["settings"]["lr"] == 1e-3
    assert _train(demo, "s", "--lr", "1e-3") == 0 and "resuming: all done" in capsys.readouterr().out


def test_default_names_differ_when_settings_differ(proj, demo):
    from kagglenlp.patents.config import PatentsConfig, exp_name

    a, b = PatentsConfig(data=str(demo), model="minilm"), PatentsConfig(data=str(demo), model="minilm", lr=1e-3)
    c = PatentsConfig(data=str(demo), model="minilm", arch="cross")
    assert exp_name(a) == "minilm-bi-seed-group5" and exp_name(c) == "minilm-cross-seed-group5"
    assert exp_name(b).startswith("minilm-bi-seed-group5-") and exp_name(a) != exp_name(b)


def _cli(proj, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "kagglenlp", *args], cwd=proj, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_lock(proj, name, p, timeout=120):
    owner = proj / "outputs" / ".locks" / f"{name}.owner"
    t0 = time.time()
    while not owner.exists():
        assert p.poll() is None, p.communicate()
        assert time.time() - t0 < timeout
        time.sleep(0.2)


@pytest.mark.e2e  # trains in CLI subprocesses
def test_two_concurrent_runs_one_refused_other_whole(proj, demo):
    a = _cli(proj, "patents", "train", "--data", str(demo), *TINY, "--name", "c", "--lr", "1e-4")
    _wait_for_lock(proj, "c", a)
    b = subprocess.run(
        [
            sys.executable,
            "-m",
            "kagglenlp",
            "patents",
            "train",
            "--data",
            str(demo),
            *TINY,
            "--name",
            "c",
            "--lr",
            "2e-4",
        ],
        cwd=proj,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert b.returncode == 2 and "is being written by another run (pid" in b.stderr and f"pid {a.pid}" in b.stderr
    out, err = a.communicate(timeout=600)
    assert a.returncode == 0, err
    rec = json.loads((proj / "outputs" / "c" / "experiment.json").read_text())
    assert rec["settings"]["lr"] == 1e-4
    assert all((proj / "outputs" / "c" / f"fold{k}" / "done.json").exists() for k in (0, 1))
    sub = pd.read_csv(proj / "submissions" / "c.csv")
    assert sub.score.between(0, 1).all() and len(sub) == len(pd.read_csv(demo / "test.csv"))


@pytest.mark.e2e  # kills a training run (SIGKILL) and resumes it
def test_sigkill_mid_fold_then_resume_matches(proj, demo, tmp_path_factory):
    "A run killed mid-fold (SIGKILL) resumes to exactly the uninterrupted result."
    ref_root = tmp_path_factory.mktemp("ref")
    env = {**os.environ, "KAGGLENLP_ROOT": str(ref_root)}
    args = [
        "patents",
        "train",
        "--data",
        str(demo),
        "--model",
        "minilm",
        "--folds",
        "2",
        "--max-steps",
        "6",
        "--bs",
        "8",
        "--seed",
        "0",
        "--name",
        "k",
    ]
    subprocess.run([sys.executable, "-m", "kagglenlp", *args], env=env, check=True, capture_output=True, timeout=600)
    p = _cli(proj, *args)
    t0 = time.time()
    while not (proj / "outputs" / "k" / "fold1").exists():  # fold 0 finished, fold 1 under way
        assert p.poll() is None and time.time() - t0 < 600
        time.sleep(0.1)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not (proj / "outputs" / "k" / "fold1" / "done.json").exists()
    assert main(args) == 0
    a, b = pd.read_csv(proj / "submissions" / "k.csv"), pd.read_csv(ref_root / "submissions" / "k.csv")
    assert a.id.tolist() == b.id.tolist() and (a.score - b.score).abs().max() < 1e-6
    oa, ob = pd.read_csv(proj / "outputs" / "k" / "oof.csv"), pd.read_csv(ref_root / "outputs" / "k" / "oof.csv")
    assert (oa.pred - ob.pred).abs().max() < 1e-6


@pytest.mark.parametrize("garbage", [b"id,anchor\n1,caf\xe9 cr\xe8me\n", bytes(range(256)) * 8])
def test_undecodable_csv_is_one_error_line(proj, demo, capsys, garbage):
    (demo / "train.csv").write_bytes(garbage)
    assert _train(demo, "u") == 2
    err = _err(capsys)
    assert "train.csv" in err and ("not UTF-8" in err or "not a valid CSV" in err or "lacks column" in err)
    assert _nothing_written(proj)


def test_unwritable_submissions_fail_before_training(proj, demo, capsys):
    (proj / "submissions").write_text("a file where the folder should be")
    assert _train(demo, "w") == 2
    assert "is not a folder" in _err(capsys) and not (proj / "outputs" / "w").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_outputs(proj, demo, capsys):
    (proj / "outputs").mkdir()
    (proj / "outputs").chmod(0o500)
    try:
        assert _train(demo, "r") == 2
        assert "cannot write under" in _err(capsys)
    finally:
        (proj / "outputs").chmod(0o700)


@pytest.mark.e2e  # trains end to end
def test_predict_refuses_mixed_or_unfinished_experiments(proj, demo, capsys):
    assert _train(demo, "p1") == 0 and _train(demo, "p2", "--seed", "1") == 0
    capsys.readouterr()
    pred = ["patents", "predict", "--data", str(demo), "--out", "sub.csv"]
    assert main([*pred, "--models", "outputs"]) == 2
    err = _err(capsys)
    assert "come from 2 experiments or splits" in err and "p1" in err and "p2" in err
    (proj / "outputs" / "p1" / "fold1" / "done.json").unlink()
    assert main([*pred, "--models", "outputs/p1"]) == 2
    assert "has 1 of its 2 folds finished" in _err(capsys) and not (proj / "sub.csv").exists()
    assert main([*pred, "--models", "outputs/p2"]) == 0


@pytest.mark.e2e  # trains end to end
def test_predict_unknown_context_says_what_to_do(proj, demo, capsys):
    assert _train(demo, "t", "--text", "cpc") == 0
    tst = pd.read_csv(demo / "test.csv")
    tst.loc[0, "context"] = "Z99"
    d = proj / "input" / "newtest"
    d.mkdir()
    tst.to_csv(d / "test.csv", index=False)
    shutil.copy(demo / "sample_submission.csv", d)
    capsys.readouterr()
    assert patents("predict", "--data", d, "--models", "outputs/t", "--out", "s.csv") == 2
    err = _err(capsys)
    assert "Z99" in err and "retrain with a --titles file" in err and "pass --titles" not in err


def test_cli_module_imported_once():
    "`python -m kagglenlp.cli` loads the CLI once: no pipeline module imports it back."
    code = (
        "import runpy, sys\nsys.argv = ['kagglenlp', 'patents', '--help']\ntry:\n"
        "    runpy.run_module('kagglenlp.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('kagglenlp.cli' in sys.modules, 'kagglenlp.imdb.cli' in sys.modules)"
    )
    r = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-2:] == ["False", "True"]


@pytest.mark.e2e  # trains end to end
def test_full_disk_saving_a_fold_model_is_one_error_and_the_fold_is_retrained(proj, demo, monkeypatch, capsys):
    "Issue 18 item 10: a `SafetensorError` while saving a fold names the file; no done.json; the rerun retrains it."
    import safetensors.torch
    import transformers.modeling_utils  # noqa: F401  (imported first: it keeps its own save_file, the backbone saves)
    from safetensors import SafetensorError

    def full(*a, **k):
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, message: "No space left on device" })')

    with monkeypatch.context() as mp:
        mp.setattr(safetensors.torch, "save_file", full)
        assert _train(demo, "full", "--fold", "0") == 2
    fd = proj / "outputs" / "full" / "fold0"
    err = _err(capsys)
    assert f"cannot write {fd / 'head.safetensors'} (No space left on device); the disk is full" in err
    assert not (fd / "done.json").exists()
    assert _train(demo, "full", "--fold", "0") == 0
    out = capsys.readouterr().out
    assert "to train: [0]" in out and json.loads((fd / "done.json").read_text())["fold"] == 0


def test_config_that_does_not_fit_the_weights_shows_the_report(tmp_path):
    "Issue 18 item 11: a config/weights mismatch names the mismatched weights instead of 'look at the above report'."
    from kagglenlp.errors import UserError
    from kagglenlp.patents.models.backbone import load_backbone, load_tokenizer

    load_backbone("minilm").save_pretrained(tmp_path)
    load_tokenizer("minilm").save_pretrained(tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "vocab_size": cfg["vocab_size"] + 7}))
    with pytest.raises(UserError) as e:
        load_backbone(str(tmp_path))
    msg = str(e.value)
    assert "weights do not fit its config.json" in msg and "embeddings.word_embeddings.weight" in msg
    assert f"[{cfg['vocab_size']}, 384]" in msg and f"[{cfg['vocab_size'] + 7}, 384]" in msg
    assert "above report" not in msg and "\n" not in msg
