"""Blending: weights, the nested CV that never fits a fold on itself, the CLI end to end, and refused inputs."""

import json

import numpy as np
import pandas as pd
import pytest
from helpers import one_error_line as _err
from helpers import patents
from scipy.stats import pearsonr

from kagglenlp.cli import main
from kagglenlp.patents.blend import FITTED, fit_weights, nested_cv
from kagglenlp.patents.data import demo_frames, write_demo

ZS = ["--model", "minilm", "--folds", "2", "--seed", "0"]


def _toy(n=300, seed=0):
    "Scores, three prediction columns (one good, one noisy, one anti-correlated) and two folds."
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, n)
    preds = np.column_stack([y + rng.normal(0, 0.2, n), y + rng.normal(0, 0.6, n), 1 - y + rng.normal(0, 0.3, n)])
    return preds, y, np.arange(n) % 2


@pytest.mark.parametrize("method", FITTED)
def test_weights_non_negative_and_sum_to_one(method):
    preds, y, _ = _toy()
    w = fit_weights(preds, y, method)
    assert w.shape == (3,) and (w >= 0).all() and w.sum() == pytest.approx(1)
    if method != "mean":
        assert w[2] == 0 and w[0] > w[1]  # the anti-correlated column gets nothing, the better one more


@pytest.mark.parametrize("method", FITTED)
def test_nested_cv_never_fits_a_fold_on_its_own_rows(method):
    preds, y, folds = _toy()
    blended, fold_w = nested_cv(preds, y, folds, method)
    for k in (0, 1):
        held = folds == k
        assert np.allclose(fold_w[k], fit_weights(preds[~held], y[~held], method))
        assert np.allclose(blended[held], preds[held] @ fold_w[k])
    # changing fold 0's own scores (even making them favour another column) leaves fold 0's blend unchanged
    y2 = y.copy()
    y2[folds == 0] = preds[folds == 0, 1]
    blended2, _ = nested_cv(preds, y2, folds, method)
    assert np.allclose(blended2[folds == 0], blended[folds == 0])


@pytest.fixture(scope="module")
def zs(tmp_path_factory):
    "Two zero-shot experiments (phrases alone, CPC title on the anchor) on the same demo folds; yields the root."
    root = tmp_path_factory.mktemp("blend")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAGGLENLP_ROOT", str(root))
        mp.chdir(root)
        d = write_demo(root / "input" / "demo")
        assert patents("zeroshot", "--data", d, *ZS, "--name", "zs-seed") == 0
        assert patents("zeroshot", "--data", d, *ZS, "--text", "cpc", "--name", "zs-cpc") == 0
        assert patents("zeroshot", "--data", d, *ZS, "--folds", "3", "--name", "zs-3") == 0
        yield root


@pytest.mark.e2e  # runs patents zeroshot and blend end to end (the zs fixture)
def test_zeroshot_is_an_experiment(zs):
    from kagglenlp.results_table import read_results

    out = zs / "outputs" / "zs-seed"
    oof = pd.read_csv(out / "oof.csv")
    trn, tst, sample = demo_frames()
    assert sorted(oof["id"]) == sorted(trn["id"]) and list(oof.columns) == ["id", "fold", "pred", "score"]
    cv = json.loads((out / "cv.json").read_text())
    assert cv["pearson"] == pytest.approx(pearsonr(oof["pred"], oof["score"]).statistic) and cv["pearson"] > 0.2
    folds = pd.read_csv(out / "folds.csv")
    assert (folds.groupby("anchor")["fold"].nunique() == 1).all()
    sub = pd.read_csv(zs / "submissions" / "zs-seed.csv")
    assert sub["id"].tolist() == sample["id"].tolist() and sub["score"].between(0, 1).all()
    row = [r for r in read_results(zs / "outputs" / "results.csv") if r["experiment"] == "zs-seed"][-1]
    assert row["arch"] == "zeroshot" and float(row["score"]) == pytest.approx(cv["pearson"], abs=1e-4)


@pytest.mark.e2e  # runs patents zeroshot and blend end to end (the zs fixture)
@pytest.mark.parametrize("method", FITTED)
def test_blend_cli_end_to_end(zs, monkeypatch, method):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(zs))
    monkeypatch.chdir(zs)
    name = f"bl-{method}"
    assert patents("blend", "zs-seed", "zs-cpc", "--name", name, "--method", method) == 0
    out = zs / "outputs" / name
    info = json.loads((out / "blend.json").read_text())
    w = np.array(list(info["weights"].values()))
    assert (w >= 0).all() and w.sum() == pytest.approx(1)
    members = [pd.read_csv(zs / "outputs" / e / "oof.csv").set_index("id") for e in ("zs-seed", "zs-cpc")]
    oof = pd.read_csv(out / "oof.csv").set_index("id")
    for k, fw in info["fold_weights"].items():
        held = oof.index[oof["fold"] == int(k)]
        want = sum(v * m.loc[held, "pred"] for v, m in zip(fw.values(), members))
        assert np.allclose(oof.loc[held, "pred"], np.clip(want, 0, 1))
    cv = json.loads((out / "cv.json").read_text())
    assert cv["pearson"] == pytest.approx(pearsonr(oof["pred"], oof["score"]).statistic)
    tp = pd.read_csv(out / "test_preds.csv")
    sub = pd.read_csv(zs / "submissions" / f"{name}.csv")
    assert np.allclose(sub["score"], np.clip(tp["zs-seed"] * w[0] + tp["zs-cpc"] * w[1], 0, 1))


def _nothing_written(root, name):
    return not (root / "outputs" / name).exists() and not (root / "submissions" / f"{name}.csv").exists()


@pytest.mark.e2e  # runs patents zeroshot and blend end to end (the zs fixture)
def test_blend_bad_inputs_one_error_line_nothing_written(zs, monkeypatch, capsys):
    import shutil

    monkeypatch.setenv("KAGGLENLP_ROOT", str(zs))
    monkeypatch.chdir(zs)
    out = zs / "outputs"
    # other folds
    assert patents("blend", "zs-seed", "zs-3", "--name", "bad") == 2
    assert "different folds" in _err(capsys) and _nothing_written(zs, "bad")
    # one experiment only (also named twice)
    assert patents("blend", "zs-seed", "--name", "bad") == 2
    assert "at least two" in _err(capsys) and _nothing_written(zs, "bad")
    assert patents("blend", "zs-seed", "zs-seed", "--name", "bad") == 2
    assert "at least two" in _err(capsys) and _nothing_written(zs, "bad")
    # unfinished: no cv.json
    shutil.copytree(out / "zs-cpc", out / "zs-half")
    (out / "zs-half" / "cv.json").unlink()
    assert patents("blend", "zs-seed", "zs-half", "--name", "bad") == 2
    assert "unfinished" in _err(capsys) and _nothing_written(zs, "bad")
    # other OOF ids (same folds.csv)
    shutil.copytree(out / "zs-cpc", out / "zs-ids")
    oof = pd.read_csv(out / "zs-ids" / "oof.csv")
    oof.iloc[1:].to_csv(out / "zs-ids" / "oof.csv", index=False)
    assert patents("blend", "zs-seed", "zs-ids", "--name", "bad") == 2
    assert "different ids" in _err(capsys) and _nothing_written(zs, "bad")
    # other test ids
    shutil.copytree(out / "zs-cpc", out / "zs-test")
    tp = pd.read_csv(out / "zs-test" / "test_preds.csv")
    tp.assign(id=tp["id"] + "x").to_csv(out / "zs-test" / "test_preds.csv", index=False)
    assert patents("blend", "zs-seed", "zs-test", "--name", "bad") == 2
    assert "different test ids" in _err(capsys) and _nothing_written(zs, "bad")
    # a missing experiment
    assert patents("blend", "zs-seed", "nope", "--name", "bad") == 2
    assert "not found" in _err(capsys) and _nothing_written(zs, "bad")


def test_notebook_is_thin_and_kaggle_ready():
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "12-patents-blend.ipynb").read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    params = "".join(code[0]["source"])
    names = [line.split("=")[0].strip() for line in params.splitlines() if "=" in line and not line.startswith("#")]
    assert {"experiments", "name", "method"} <= set(names) and all(n == n.lower() for n in names)
    assert "run_blend" in "".join("".join(c["source"]) for c in code)


@pytest.mark.e2e  # runs patents zeroshot and blend end to end (the zs fixture)
def test_blend_refuses_members_trained_on_other_data(zs, monkeypatch, capsys):
    "Issue 18 item 5: same ids and folds, but another train.csv or test.csv (their fingerprints): refused, named."
    import shutil

    monkeypatch.setenv("KAGGLENLP_ROOT", str(zs))
    monkeypatch.chdir(zs)
    out = zs / "outputs"
    for key in ("train", "test"):
        other = shutil.copytree(out / "zs-cpc", out / f"zs-other-{key}")
        rec = json.loads((other / "experiment.json").read_text())
        rec["data"][key] = "0" * 64
        (other / "experiment.json").write_text(json.dumps(rec))
        assert patents("blend", "zs-seed", other.name, "--name", "bad") == 2
        err = _err(capsys)
        assert "trained on different data" in err and f"{key}.csv differ" in err and _nothing_written(zs, "bad")
    # a blend as a member carries its members' data: blending it with the other-train one is refused too
    assert patents("blend", "zs-seed", "zs-cpc", "--name", "bl-inner", "--method", "mean") == 0
    capsys.readouterr()
    assert patents("blend", "bl-inner", "zs-other-train", "--name", "bad") == 2
    assert "train.csv differ" in _err(capsys) and _nothing_written(zs, "bad")


@pytest.mark.e2e  # runs patents zeroshot and blend end to end (the zs fixture)
def test_blend_fixed_weights_and_minmax_scale(zs, monkeypatch, capsys):
    "Issue 16 item 5: `--method fixed --weights` and `--scale minmax` (each member's OOF and test onto [0, 1])."
    from kagglenlp.patents.blend import blend_fixed, minmax_scale

    monkeypatch.setenv("KAGGLENLP_ROOT", str(zs))
    monkeypatch.chdir(zs)
    exps = ["zs-seed", "zs-cpc"]
    argv = ["patents", "blend", *exps, "--name", "bl-fixed", "--method", "fixed", "--weights", "3,1"]
    assert main([*argv, "--scale", "minmax"]) == 0
    out = zs / "outputs" / "bl-fixed"
    info = json.loads((out / "blend.json").read_text())
    assert info["weights"] == {"zs-seed": 0.75, "zs-cpc": 0.25} and info["scale"] == "minmax"
    assert all(v == info["weights"] for v in info["fold_weights"].values())  # nothing fitted per fold
    oofs = [pd.read_csv(zs / "outputs" / e / "oof.csv").set_index("id") for e in exps]
    oof = pd.read_csv(out / "oof.csv").set_index("id")
    want = blend_fixed(np.column_stack([o.loc[oof.index, "pred"] for o in oofs]), [3, 1], "minmax")
    assert np.allclose(oof["pred"], np.clip(want, 0, 1))
    tps = [pd.read_csv(zs / "outputs" / e / "test_preds.csv") for e in exps]
    raw = np.column_stack([t.drop(columns="id").mean(axis=1) for t in tps])
    sub = pd.read_csv(zs / "submissions" / "bl-fixed.csv")
    assert np.allclose(sub["score"], np.clip(blend_fixed(raw, [3, 1], "minmax"), 0, 1))
    assert not np.allclose(minmax_scale(raw[:, 0]), raw[:, 0])  # the scaling did something
    # bad combinations: one error line, nothing written
    for extra, msg in (
        (["--method", "fixed"], "--weights goes with --method fixed"),
        (["--weights", "1,1"], "--weights goes with --method fixed"),
        (["--method", "fixed", "--weights", "1"], "one weight per experiment: 2 experiments, 1 weights"),
        (["--method", "fixed", "--weights", "1,-1"], "non-negative"),
        (["--method", "fixed", "--weights", "a,b"], "comma-separated numbers"),
    ):
        assert patents("blend", *exps, "--name", "bad", *extra) == 2
        assert msg in _err(capsys) and _nothing_written(zs, "bad")
