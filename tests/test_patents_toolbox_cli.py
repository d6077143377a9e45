"""The competition toolbox as `kagglenlp patents train` options (issue 16): each trains, saves, reloads in `patents
predict` with no flags and reproduces its training submission; bad values and wrong recipes are one error line."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from helpers import PATENTS_TINY_CROSS, patents
from helpers import one_error_line as _err

from kagglenlp.cli import main
from kagglenlp.patents.tricks.best import best_eval

TINY = [*PATENTS_TINY_CROSS, "--folds", "2"]  # MiniLM cross-encoder, 2 folds of 2 steps


def _train(d, name, *extra):
    return patents("train", "--data", d, *TINY, "--name", name, *extra)


def _reproduces(proj, d, name):
    "`patents predict` (no flags but the folders) gives the training submission of experiment `name` (to 1e-5)."
    out = proj / f"{name}-pred.csv"
    assert patents("predict", "--data", d, "--models", f"outputs/{name}", "--out", out) == 0
    a, b = (pd.read_csv(p, dtype={"id": str}) for p in (out, proj / "submissions" / f"{name}.csv"))
    assert a["id"].tolist() == b["id"].tolist()
    np.testing.assert_allclose(a["score"], b["score"], atol=1e-5)
    return b


def _record(proj, name):
    return json.loads((proj / "outputs" / name / "experiment.json").read_text())["settings"]


def _fold(proj, name, k, file):
    return json.loads((proj / "outputs" / name / f"fold{k}" / file).read_text())


def _head_keys(proj, name):
    from safetensors.torch import load_file

    return set(load_file(str(proj / "outputs" / name / "fold0" / "head.safetensors")))


@pytest.mark.e2e  # trains end to end
def test_fgm_ema_msd_lstm_and_memory_options(proj, demo):
    flags = ["--adv", "fgm", "--adv-eps", "0.5", "--ema", "0.9", "--msd", "3", "--pool", "lstm"]
    flags += ["--grad-accum", "2", "--eval-bs", "4", "--grad-checkpointing"]
    assert _train(demo, "a", *flags) == 0
    rec = _record(proj, "a")
    assert (rec["adv"], rec["adv_eps"], rec["ema"], rec["msd"], rec["pool"]) == ("fgm", 0.5, 0.9, 3, "lstm")
    assert (rec["grad_accum"], rec["eval_bs"], rec["grad_checkpointing"]) == (2, 4, True)
    fmt = _fold(proj, "a", 0, "input_format.json")
    assert (fmt["pool"], fmt["msd"]) == ("lstm", 3)
    keys = _head_keys(proj, "a")
    assert "head.linear.weight" in keys and any(k.startswith("attn.lstm.") for k in keys)  # MSD head, BiLSTM pool
    log = _fold(proj, "a", 0, "log_history.json")
    assert max(r["step"] for r in log) == 2  # 2 optimizer steps of 2 accumulated batches each
    _reproduces(proj, demo, "a")


@pytest.mark.e2e  # trains end to end
def test_awp_pearson_loss_frozen_embeddings_and_best_checkpoint(proj, demo):
    import torch
    from safetensors.torch import load_file

    from kagglenlp.patents.models.backbone import load_backbone

    flags = ["--adv", "awp", "--adv-lr", "0.5", "--loss", "pearson", "--freeze-embeddings", "--evals-per-epoch", "2"]
    assert _train(demo, "b", *flags) == 0
    rec = _record(proj, "b")
    assert (rec["adv"], rec["adv_lr"], rec["loss"], rec["freeze_embeddings"], rec["evals_per_epoch"]) == (
        "awp",
        0.5,
        "pearson",
        True,
        2,
    )
    for k in range(2):
        done, log = _fold(proj, "b", k, "done.json"), _fold(proj, "b", k, "log_history.json")
        evals = [r["step"] for r in log if "eval_pearson" in r]
        assert evals == [1, 2]  # 2 evaluations in the 2-step budget
        assert (done["best_step"], done["best_pearson"]) == best_eval(log) and done["best_step"] in (1, 2)
        assert not (proj / "outputs" / "b" / f"fold{k}" / "trainer").exists()  # the checkpoints are gone
    base = load_backbone("minilm").embeddings.word_embeddings.weight
    saved = load_file(str(proj / "outputs" / "b" / "fold0" / "model.safetensors"))
    assert torch.equal(saved["embeddings.word_embeddings.weight"], base)  # frozen: bit-identical
    sub = _reproduces(proj, demo, "b")
    assert sub["score"].between(0, 1).all() and sub["score"].nunique() > 1  # the Pearson loss's sigmoid


@pytest.mark.e2e  # trains end to end
def test_sibling_shuffle_tta_truncation_note_and_resume(proj, demo, capsys):
    flags = ["--text", "cpc-siblings", "--max-len", "24", "--sib-shuffle", "--tta", "3"]
    assert _train(demo, "c", *flags) == 0
    out = capsys.readouterr().out
    m = re.search(r"note: (\d+) of (\d+) train rows and (\d+) of (\d+) test rows are longer than --max-len 24", out)
    assert m and 0 < int(m[1]) <= int(m[2]) and int(m[4]) > 0, out
    rec, fmt = _record(proj, "c"), _fold(proj, "c", 0, "input_format.json")
    assert rec["sib_shuffle"] and rec["tta"] == 3 and (fmt["tta"], fmt["tta_seed"]) == (3, 0)
    _reproduces(proj, demo, "c")
    from kagglenlp.patents.data import demo_frames
    from kagglenlp.patents.models import get_recipe

    fd, tst = proj / "outputs" / "c" / "fold0", demo_frames()[1]
    sorted_only = get_recipe("cross").predict(fd, {**fmt, "tta": 1}, tst, 64)  # the same model, one order
    tta = pd.read_csv(fd / "test_preds.csv")["pred"].values
    assert not np.allclose(sorted_only, tta)  # the shuffled orders are averaged in
    assert _train(demo, "c", *flags) == 0  # the same settings resume (all folds done)
    capsys.readouterr()
    assert _train(demo, "c", *flags[:-1], "2") == 2  # another --tta is another experiment
    assert "tta: 3 -> 2" in _err(capsys)


@pytest.mark.e2e  # trains end to end
def test_full_model_beside_the_folds_and_full_weight(proj, demo, capsys):
    from kagglenlp.patents.fold import with_full

    assert _train(demo, "f", "--evals-per-epoch", "2") == 0 and not (proj / "outputs" / "f" / "full").exists()
    capsys.readouterr()
    assert _train(demo, "f", "--evals-per-epoch", "2", "--full") == 0  # resumes: the folds are done, adds full/
    assert "to train: none" in capsys.readouterr().out
    out = proj / "outputs" / "f"
    best = [_fold(proj, "f", k, "done.json")["best_step"] for k in range(2)]
    done = json.loads((out / "full" / "done.json").read_text())
    assert done["steps"] == max(1, round(np.mean(best))) and done["n_train"] == len(pd.read_csv(out / "folds.csv"))
    assert max(r["step"] for r in json.loads((out / "full" / "log_history.json").read_text())) == done["steps"]
    _reproduces(proj, demo, "f")  # --full-weight 0 (the default): the folds only, as the training submission
    p = proj / "fw.csv"
    assert (
        main(
            ["patents", "predict", "--data", str(demo), "--models", "outputs/f", "--out", str(p), "--full-weight", "2"]
        )
        == 0
    )
    tp, full = pd.read_csv(out / "test_preds.csv", dtype={"id": str}), pd.read_csv(out / "full" / "test_preds.csv")
    want = np.clip(with_full(tp[["fold0", "fold1"]].values, full["pred"].values, 2.0), 0, 1)
    got = pd.read_csv(p, dtype={"id": str}).set_index("id")["score"][tp["id"]].values
    np.testing.assert_allclose(got, want, atol=1e-5)
    capsys.readouterr()
    assert (
        main(
            [
                "patents",
                "predict",
                "--data",
                str(demo),
                "--models",
                "outputs/f/fold0",
                "outputs/f/fold1",
                "--out",
                str(p),
                "--overwrite",
                "--full-weight",
                "-1",
            ]
        )
        == 2
    )
    assert "--full-weight must be zero or positive" in _err(capsys)


@pytest.mark.parametrize(
    "flags,msg",
    [
        (["--evals-per-epoch", "-1"], "--evals-per-epoch must be zero"),
        (["--grad-accum", "0"], "--grad-accum must be at least 1"),
        (["--eval-bs", "0"], "--eval-bs must be a positive number"),
        (["--adv-start", "-1"], "--adv-start must be zero or positive"),
        (["--adv-lr", "0"], "--adv-lr must be a positive number"),
        (["--adv-eps", "nan"], "--adv-eps must be a positive number"),
        (["--ema", "1"], r"--ema is a decay: it must be in \[0, 1\)"),
        (["--ema", "-0.5"], r"--ema is a decay"),
        (["--msd", "-2"], "--msd must be zero"),
        (["--tta", "0"], "--tta must be at least 1"),
        (["--tta", "2"], "--tta reorders siblings: it needs --text cpc-siblings"),
        (["--sib-shuffle"], "--sib-shuffle reorders siblings: it needs --text cpc-siblings"),
        (["--adv", "fgm", "--freeze-embeddings"], "--adv fgm moves the word embeddings"),
        (["--arch", "bi", "--ema", "0.99", "--pool", "lstm"], "--arch bi does not support --ema, --pool lstm"),
        (["--full"], "--full trains for the folds' mean best step: it needs --evals-per-epoch"),
        (["--arch", "bi", "--adv", "awp"], "--arch bi does not support --adv awp"),
        (["--arch", "bi", "--loss", "pearson", "--evals-per-epoch", "2"], "does not support --evals-per-epoch"),
    ],
)
def test_bad_toolbox_options_are_one_error_line_before_anything_is_written(proj, demo, capsys, flags, msg):
    assert _train(demo, "bad", *flags) == 2
    assert re.search(msg, _err(capsys)) and not (proj / "outputs").exists()


def test_toolbox_defaults_leave_the_training_arguments_alone(tmp_path):
    from kagglenlp.patents.config import PatentsConfig
    from kagglenlp.patents.trainer import training_arguments

    cfg = PatentsConfig(data=".", arch="cross", bs=8)
    a = training_arguments(cfg, tmp_path, 100)
    assert (a.gradient_accumulation_steps, a.per_device_eval_batch_size, a.eval_strategy) == (1, 16, "epoch")
    assert not a.load_best_model_at_end and a.save_strategy == "no"
    b = training_arguments(PatentsConfig(data=".", arch="cross", bs=8, evals_per_epoch=4, grad_accum=2), tmp_path, 100)
    # 100 rows at batch 8 = 13 batches = 7 optimizer steps per epoch: an evaluation every 7 // 4 = 1 step
    assert (b.eval_strategy, b.eval_steps, b.gradient_accumulation_steps) == ("steps", 1, 2)
    assert b.load_best_model_at_end and b.metric_for_best_model == "pearson" and b.greater_is_better


def test_memory_options_keep_the_experiment_and_the_others_change_it():
    from dataclasses import replace

    from kagglenlp.patents.config import IGNORED_ON_RESUME, PatentsConfig, exp_name

    base = PatentsConfig(data=".", arch="cross")
    for kw in ({"eval_bs": 4}, {"grad_checkpointing": True}):  # memory for speed: same results, a resume may toggle
        assert exp_name(replace(base, **kw)) == exp_name(base) and set(kw) <= set(IGNORED_ON_RESUME)
    for kw in ({"grad_accum": 2}, {"adv": "awp"}, {"ema": 0.99}, {"msd": 4}, {"evals_per_epoch": 2}):
        assert exp_name(replace(base, **kw)) != exp_name(base) and not set(kw) & set(IGNORED_ON_RESUME)
