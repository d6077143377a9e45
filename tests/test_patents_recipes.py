"""The recipe interface and fold storage: a third recipe in one file, effective defaults, checked settings, fold
folders of different runs refused, old fold folders still predicting, one results row, ids that look missing."""

import dataclasses
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import one_error_line as _err
from helpers import patents
from overlap_recipe import OverlapRecipe

from kagglenlp.cli import main
from kagglenlp.patents.config import PatentsConfig, settings
from kagglenlp.patents.data import write_demo
from kagglenlp.patents.models import REGISTRY, Recipe, get_recipe, register
from kagglenlp.results_table import read_results

TINY = ["--model", "minilm", "--folds", "2", "--max-steps", "2", "--bs", "8", "--seed", "0"]


def _train(d, name, *extra):
    return patents("train", "--data", d, *TINY, "--name", name, *extra)


def _predict(d, models, out):
    return patents("predict", "--data", d, "--models", models, "--out", out, "--overwrite")


def _same(a, b):
    a, b = (
        pd.read_csv(a, dtype={"id": str}, keep_default_na=False),
        pd.read_csv(b, dtype={"id": str}, keep_default_na=False),
    )
    return a["id"].tolist() == b["id"].tolist() and np.allclose(a["score"], b["score"], atol=1e-5)


# ---- the interface and the config


def test_registry_is_the_choice_and_the_config_resolves_defaults():
    assert {"cross", "bi", "overlap"} <= set(REGISTRY) and isinstance(get_recipe("bi"), Recipe)
    bi = PatentsConfig(data=".", arch="bi")
    cross = dataclasses.replace(bi, arch="cross")  # must not keep the bi-encoder's LR
    assert (bi.eff_lr, bi.eff_head_lr) == (get_recipe("bi").default_lr, get_recipe("bi").default_head_lr)
    assert cross.eff_lr == cross.eff_head_lr == get_recipe("cross").default_lr != bi.eff_lr
    assert settings(cross)["lr"] == cross.eff_lr and settings(cross)["head_lr"] == cross.eff_head_lr
    mine = PatentsConfig(data=".", arch="cross", lr=1e-3)
    assert mine.eff_head_lr == 1e-3 and dataclasses.replace(mine, arch="bi").eff_lr == 1e-3  # the user's value stays
    with pytest.raises(Exception, match="unknown --arch 'nope'"):
        PatentsConfig(data=".", arch="nope")
    with pytest.raises(Exception, match="taken"):
        register(OverlapRecipe)


def test_third_recipe_trains_and_predicts_through_the_cli(proj, demo):
    assert _train(demo, "ov", "--arch", "overlap") == 0
    fd = proj / "outputs" / "ov" / "fold0"
    assert json.loads((fd / "input_format.json").read_text())["arch"] == "overlap" and (fd / "overlap.json").exists()
    cv = json.loads((proj / "outputs" / "ov" / "cv.json").read_text())
    assert cv["pearson"] > 0.15  # the overlap carries some signal on the demo data (0.23 measured)
    assert _predict(demo, "outputs/ov", proj / "p.csv") == 0 and _same(proj / "p.csv", proj / "submissions" / "ov.csv")
    row = read_results()[-1]
    assert row["arch"] == "overlap" and row["lr"] == "1.0" and row["model"] == "minilm"


def test_changed_builtin_default_makes_a_rerun_refuse(proj, demo, capsys, monkeypatch):
    assert _train(demo, "d", "--arch", "overlap") == 0
    rec = json.loads((proj / "outputs" / "d" / "experiment.json").read_text())
    assert rec["settings"]["lr"] == 1.0 and rec["settings"]["head_lr"] == 1.0  # effective values, not null
    monkeypatch.setattr(OverlapRecipe, "default_lr", 0.5)
    capsys.readouterr()
    assert _train(demo, "d", "--arch", "overlap") == 2
    err = _err(capsys)
    assert "lr: 1.0 -> 0.5" in err and "head_lr: 1.0 -> 0.5" in err


@pytest.mark.parametrize(
    "flags,msg",
    [
        (["--epochs", "0"], "--epochs must be a positive number"),
        (["--epochs", "-1"], "--epochs must be a positive number"),
        (["--max-steps", "0"], "--max-steps must be -1"),
        (["--max-len", "0"], "--max-len must be at least 8"),
        (["--max-len", "2"], "--max-len must be at least 8"),
        (["--warmup", "5"], r"--warmup is a fraction of all steps: it must be in \[0, 1\)"),
        (["--bs", "0"], "--bs must be a positive number"),
        (["--bs", "-8"], "--bs must be a positive number"),
        (["--lr", "-1"], "--lr must be a positive number"),
        (["--lr", "nan"], "--lr must be a positive number"),
        (["--head-lr", "0"], "--head-lr must be a positive number"),
        (["--wd", "-0.1"], "--wd must be zero or positive"),
        (["--folds", "1"], "--folds must be at least 2"),
        (["--max-rows", "0"], "--max-rows must be a positive number"),
        (["--sib-cap", "0"], "--sib-cap must be a positive number"),
        (["--gap", "-1"], "--gap must be zero or positive"),
        (["--arch", "bi", "--text", "pair"], "--arch bi reads --text seed or cpc"),
    ],
)
def test_bad_numbers_are_one_error_line_before_anything_is_written(proj, demo, capsys, flags, msg):
    assert _train(demo, "bad", *flags) == 2
    assert re.search(msg, _err(capsys)) and not (proj / "outputs").exists()


@pytest.mark.parametrize("cmd", [["zeroshot", "--bs", "0"], ["zeroshot", "--max-len", "2"], ["predict", "--bs", "0"]])
def test_bad_numbers_of_other_commands(proj, demo, capsys, cmd):
    extra = ["--models", "outputs"] if cmd[0] == "predict" else []
    assert main(["patents", cmd[0], "--data", str(demo), *extra, *cmd[1:]]) == 2
    assert cmd[1] in _err(capsys) and not (proj / "outputs").exists()


def test_constant_predictions_are_an_error_not_a_nan(proj, demo, capsys, monkeypatch):
    monkeypatch.setattr(OverlapRecipe, "predict", lambda self, fd, fmt, df, bs: np.zeros(len(df)))
    orig = OverlapRecipe.fit

    def flat(self, cfg, model, tok, inputs, m_trn, m_val, args):
        model, oof, tpred, log = orig(self, cfg, model, tok, inputs, m_trn, m_val, args)
        return model, np.full(len(oof), 0.5), tpred, log

    monkeypatch.setattr(OverlapRecipe, "fit", flat)
    assert _train(demo, "flat", "--arch", "overlap") == 2
    assert "predictions are constant" in _err(capsys)
    out = proj / "outputs" / "flat"
    assert not (out / "cv.json").exists() and not (out / "fold0" / "done.json").exists()


# ---- fold storage


@pytest.fixture(scope="module")
def bi_run(tmp_path_factory):
    "One tiny bi-encoder experiment `b` on the demo data; yields its project root."
    root = tmp_path_factory.mktemp("bi")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAGGLENLP_ROOT", str(root))
        mp.chdir(root)
        d = write_demo(root / "input" / "demo")
        assert _train(d, "b") == 0
        yield root


@pytest.mark.e2e  # trains
def test_done_json_records_what_the_model_depends_on(bi_run):
    done = json.loads((bi_run / "outputs" / "b" / "fold0" / "done.json").read_text())
    assert done["settings"]["arch"] == "bi" and done["settings"]["lr"] == 2e-4 and "name" not in done["settings"]
    assert set(done["data"]) == {"train"} and len(done["data"]["train"]) == 64


@pytest.mark.e2e  # trains
def test_predict_refuses_folds_of_two_runs_under_one_name(bi_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    d = shutil.copytree(bi_run / "input" / "demo", tmp_path / "input" / "demo")
    assert _train(d, "b", "--arch", "overlap") == 0  # same name, same split, another recipe
    mixed = tmp_path / "mixed"
    shutil.copytree(bi_run / "outputs" / "b" / "fold0", mixed / "fold0")
    shutil.copytree(tmp_path / "outputs" / "b" / "fold1", mixed / "fold1")
    capsys.readouterr()
    assert _predict(d, mixed, tmp_path / "s.csv") == 2
    err = _err(capsys)
    assert "trained differently" in err and "arch: 'bi' vs 'overlap'" in err and not (tmp_path / "s.csv").exists()
    # the same recipe and settings on other training data (same ids, so the same split): refused too
    trn = pd.read_csv(d / "train.csv", dtype=str)
    trn["score"] = trn["score"].iloc[::-1].values
    d2 = shutil.copytree(d, tmp_path / "input" / "other")
    trn.to_csv(d2 / "train.csv", index=False)
    shutil.rmtree(tmp_path / "outputs" / "b")
    (tmp_path / "submissions" / "b.csv").unlink()
    assert _train(d2, "b") == 0
    shutil.rmtree(mixed / "fold1")
    shutil.copytree(tmp_path / "outputs" / "b" / "fold1", mixed / "fold1")
    capsys.readouterr()
    assert _predict(d, mixed, tmp_path / "s.csv") == 2
    assert "data train" in _err(capsys)


@pytest.mark.e2e  # trains (bi_run)
def test_fold_folders_of_older_versions_are_refused(bi_run, tmp_path, monkeypatch, capsys):
    """Folders written before input_format.json named the recipe are refused with one line saying to retrain them
    (docs/patents.md), never predicted with a guessed recipe."""
    monkeypatch.chdir(bi_run)
    old = tmp_path / "old"
    shutil.copytree(bi_run / "outputs" / "b", old)
    for fd in old.glob("fold?"):
        fmt = json.loads((fd / "input_format.json").read_text())
        (fd / "input_format.json").write_text(json.dumps({k: v for k, v in fmt.items() if k != "arch"}))
    capsys.readouterr()
    assert _predict("input/demo", old, tmp_path / "s.csv") == 2
    assert "saved by an older kagglenlp" in _err(capsys) and not (tmp_path / "s.csv").exists()


# ---- the end of a run


def test_results_row_written_once_after_a_failed_end_of_run(proj, demo, capsys):
    results = proj / "outputs" / "results.csv"
    results.mkdir(parents=True)  # unwritable (works as root too): the end of the run fails after cv.json
    assert _train(demo, "r", "--arch", "overlap") == 2
    assert "results.csv" in _err(capsys) and (proj / "outputs" / "r" / "cv.json").exists()
    results.rmdir()
    for _ in range(2):  # the fixed rerun writes the missing row; another rerun adds none
        assert _train(demo, "r", "--arch", "overlap") == 0
        assert [row["experiment"] for row in read_results(results)] == ["r"]


def test_ids_that_look_missing_survive_train_and_predict(proj, demo):
    trn, tst = (pd.read_csv(demo / f, dtype=str, keep_default_na=False) for f in ("train.csv", "test.csv"))
    trn.loc[:2, "id"] = ["NA", "nan", "null"]
    tst.loc[:2, "id"] = ["NA", "null", "N/A"]
    trn.to_csv(demo / "train.csv", index=False)
    tst.to_csv(demo / "test.csv", index=False)
    tst[["id"]].assign(score=0).to_csv(demo / "sample_submission.csv", index=False)
    assert _train(demo, "na", "--arch", "overlap") == 0
    read = lambda p: pd.read_csv(p, dtype={"id": str}, keep_default_na=False)  # noqa: E731
    assert {"NA", "nan", "null"} <= set(read(proj / "outputs" / "na" / "oof.csv")["id"])
    sub = read(proj / "submissions" / "na.csv")
    assert sub["id"].tolist() == tst["id"].tolist() and sub["score"].notna().all()
    assert _predict(demo, "outputs/na", proj / "p.csv") == 0 and _same(proj / "p.csv", proj / "submissions" / "na.csv")


def test_bi_seed_says_the_context_is_not_used(capsys):
    "Issue 18 item 6: `--text` help and the start of a bi-encoder training say that seed ignores the CPC context."
    from kagglenlp.patents.data import demo_frames
    from kagglenlp.patents.models.backbone import load_tokenizer

    field = {f.name: f for f in dataclasses.fields(PatentsConfig)}["text"]
    assert "for --arch bi the bare phrases (the context is not used)" in field.metadata["help"]
    trn, tst, _ = demo_frames()
    cfg, tok, bi = PatentsConfig(data=".", model="minilm", max_len=16), load_tokenizer("minilm"), get_recipe("bi")
    for text, noted in (("seed", True), ("cpc", False)):
        bi.prepare(cfg, tok, trn.head(4), tst.head(2), {"text": text, "titles": None})
        out = capsys.readouterr().out
        assert ("note: --arch bi --text seed" in out and "the CPC context is not used" in out) == noted
        assert ("--text cpc puts the CPC title on the anchor side" in out) == noted
