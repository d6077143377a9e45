"""`kagglenlp kaggle folds` options through the CLI, against the stub or as dry runs: `--config` inlined into every
fold kernel, list options that add up over repeated flags, the GPU quota line before a push, fold weights as
Kaggle Models for the inference kernel."""

import ast
import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from helpers import kaggle_cli as cli
from kaggle_stub import KaggleStub, set_env

from kagglenlp.patents.config import kernel_params

pytestmark = pytest.mark.skipif(__import__("importlib").util.find_spec("kaggle") is None, reason="kaggle not installed")
ROOT = Path(__file__).resolve().parents[1]
TRAIN, INFER = ROOT / "notebooks" / "10-patents-folds.ipynb", ROOT / "notebooks" / "11-patents-inference.ipynb"
USER, COMP = "stubuser", "us-patent-phrase-to-phrase-matching"
BASE = ["folds", "--notebook", TRAIN, "--inference", INFER, "--id-prefix", f"{USER}/uspppm"]


@pytest.fixture
def stub(tmp_path, monkeypatch):
    with KaggleStub() as s:
        set_env(monkeypatch, tmp_path, s.proxy)
        yield s


def injected(folder):
    "The parameters injected into the notebook of kernel folder `folder`, as values."
    meta = json.loads((folder / "kernel-metadata.json").read_text())
    nb = nbformat.read(folder / meta["code_file"], as_version=4)
    [cell] = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    tree = ast.parse(cell.source)
    return {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body}


def meta(folder):
    return json.loads((folder / "kernel-metadata.json").read_text())


# ---- --config -----------------------------------------------------------------------------------
def test_folds_config_gives_every_fold_kernel_the_files_settings(tmp_path, capsys):
    cfg = ROOT / "configs" / "minilm-cross-gpu.toml"
    rc, out, err = cli(capsys, *BASE, "--config", cfg, "--dir", tmp_path / "k", "--dry-run")
    assert rc == 0, err
    want = kernel_params(cfg)
    n = want.pop("folds")
    assert n == 3 and want["settings"]["arch"] == "cross"  # the file's own settings
    for k in range(n):
        assert injected(tmp_path / "k" / f"uspppm-fold{k}") == {**want, "folds": n, "fold": k}
    assert not (tmp_path / "k" / f"uspppm-fold{n}").exists()
    assert injected(tmp_path / "k" / "uspppm-infer")["model_dirs"] == [
        f"/kaggle/input/uspppm-fold{k}" for k in range(n)
    ]


def test_folds_flags_win_over_the_config(tmp_path, capsys):
    cfg = tmp_path / "run7.toml"
    cfg.write_text('model = "minilm"\nfolds = 3\nepochs = 2\nbs = 64\nseed = 1\n')
    params = ["--param", "seed=5", "settings={'epochs': 1}", "--param", "model='microsoft/deberta-v3-small'"]
    rc, _, err = cli(capsys, *BASE, "--config", cfg, "--folds", 2, *params, "--dir", tmp_path / "k", "--dry-run")
    assert rc == 0, err
    got = injected(tmp_path / "k" / "uspppm-fold1")
    assert got == dict(model="microsoft/deberta-v3-small", name="run7", seed=5, settings={"epochs": 1, "bs": 64},
                       folds=2, fold=1)  # fmt: skip
    assert not (tmp_path / "k" / "uspppm-fold2").exists()


def test_folds_config_with_a_typo_writes_nothing(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("epoch = 2\n")
    rc, _, err = cli(capsys, *BASE, "--config", cfg, "--dir", tmp_path / "k", "--dry-run")
    assert rc == 2 and "unknown setting 'epoch'; did you mean 'epochs'?" in err
    rc, _, err = cli(capsys, *BASE, "--config", tmp_path / "nope.toml", "--dir", tmp_path / "k", "--dry-run")
    assert rc == 2 and "--config file not found" in err
    assert not (tmp_path / "k").exists()


def test_folds_settings_typo_is_refused_before_any_request(stub, tmp_path, capsys):
    rc, _, err = cli(capsys, *BASE, "--folds", 2, "--gpu", "--param", "settings={'epoch': 1}")
    assert rc == 2 and stub.calls == []  # nothing pushed, not even the quota asked
    [line] = err.strip().splitlines()
    assert line.startswith("error:") and "has no setting 'epoch'; did you mean 'epochs'?" in line


@pytest.mark.parametrize(
    "param, says",
    [
        ("settings={'epochs': 'two'}", "epochs = 'two' should be a number"),
        ("settings={'arch': 'crass'}", "arch = 'crass' is not one of"),
        ("settings={'model': 'minilm'}", "give 'model' as its own parameter"),
        ("settings={'epochs': -1}", "--epochs must be a positive number"),
        ("settings=[1]", "must be a dict of PatentsConfig settings"),
        ("folds=1.5", "folds = 1.5 should be an integer"),
        ("model=3", "model = 3 should be a string"),
    ],
)
def test_every_injected_setting_is_checked_against_the_config_the_notebook_builds(param, says, tmp_path, capsys):
    rc, _, err = cli(capsys, "push", TRAIN, "--id", f"{USER}/uspppm-one", "--param", param, "--dir", tmp_path / "k",
                     "--dry-run")  # fmt: skip
    assert rc == 2 and says in err and not (tmp_path / "k").exists()


def test_the_imdb_notebooks_settings_are_checked_against_its_own_config(tmp_path, capsys):
    nb = ROOT / "notebooks" / "20-imdb-ulmfit.ipynb"
    base = ["push", nb, "--id", f"{USER}/imdb-one", "--dry-run"]
    rc, _, err = cli(capsys, *base, "--param", "settings={'emb_sz': 'big'}", "--dir", tmp_path / "a")
    assert rc == 2 and "emb_sz = 'big' should be an integer" in err and not (tmp_path / "a").exists()
    rc, _, err = cli(capsys, *base, "--param", "settings={'epochs': 1}", "--dir", tmp_path / "b")
    assert rc == 2 and "UlmfitConfig has no setting 'epochs'" in err
    rc, _, err = cli(capsys, *base, "--param", "settings={'emb_sz': 200, 'lm_epochs': [1, 2]}", "--dir", tmp_path / "c")
    assert rc == 0, err


# ---- repeated list flags ----------------------------------------------------------------------------
def test_repeated_list_flags_add_up(tmp_path, capsys):
    rc, _, err = cli(capsys, *BASE, "--folds", 2, "--dataset", "a/one-data", "--dataset", "b/two-data",
                     "--param", "seed=3", "--param", "split='time'", "--dir", tmp_path / "k", "--dry-run")  # fmt: skip
    assert rc == 0, err
    assert meta(tmp_path / "k" / "uspppm-fold0")["dataset_sources"] == ["a/one-data", "b/two-data"]
    assert {"seed": 3, "split": "time"}.items() <= injected(tmp_path / "k" / "uspppm-fold0").items()
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    d1.mkdir(), d2.mkdir()
    srcs = ["--source", f"a/one-data={d1}", "--source", f"b/two-data={d2}"]
    rc, _, err = cli(capsys, "push", TRAIN, "--id", f"{USER}/uspppm-one", "--dataset", "a/one-data", "--dataset",
                     "b/two-data", "--competition", COMP, "--data", tmp_path / "none", *srcs, "--dir",
                     tmp_path / "p", "--rehearse")  # fmt: skip
    assert rc == 2 and "--data folder not found" in err  # both sources were taken: only the data is missing
    rc, _, err = cli(capsys, "push", TRAIN, "--id", f"{USER}/uspppm-one", "--dataset", "a/one-data", "--dataset",
                     "b/two-data", *srcs[:2], "--dir", tmp_path / "p", "--rehearse")  # fmt: skip
    assert rc == 2 and "dataset b/two-data: pass --source" in err and "a/one-data: pass" not in err


# ---- GPU quota before a push --------------------------------------------------------------------
def test_gpu_folds_push_says_the_quota_left_first(stub, tmp_path, capsys):
    rc, _, err = cli(capsys, *BASE, "--folds", 2, "--gpu")
    assert rc == 0, err
    line = "GPU quota this week: 20.00h left of 30.00h (10.00h used; refreshes 2026-12-05T00:00:00+00:00)"
    assert line in err and err.index(line) < err.index("pushing")
    assert len(stub.api("GetAcceleratorQuotaStatistics")) == 1 and len(stub.api("SaveKernel")) == 2
    rc, _, err = cli(capsys, *BASE, "--folds", 2)  # CPU kernels: no quota asked for
    assert rc == 0 and "GPU quota" not in err and len(stub.api("GetAcceleratorQuotaStatistics")) == 1


def test_an_unreadable_quota_is_a_note_not_an_error(stub, tmp_path, capsys):
    stub.failures["GetAcceleratorQuotaStatistics"] = [(403, {"code": 403, "message": "Permission denied"})]
    rc, _, err = cli(capsys, *BASE, "--folds", 2, "--gpu")
    assert rc == 0, err
    assert "note: cannot read the GPU quota" in err and "error:" not in err
    assert len(stub.api("SaveKernel")) == 2


def test_a_hung_quota_read_has_its_own_short_bound(stub, tmp_path, capsys, monkeypatch):
    from kagglenlp.kaggle_tools import kernels

    monkeypatch.setattr(kernels, "QUOTA_TIMEOUT", 3)
    stub.replies["GetAcceleratorQuotaStatistics"] = stub.hang
    t0 = time.monotonic()
    rc, _, err = cli(capsys, *BASE, "--folds", 2, "--gpu", "--timeout", 600)
    assert rc == 0, err
    assert "note: cannot read the GPU quota" in err and "no answer after 3" in err
    assert len(stub.api("SaveKernel")) == 2 and time.monotonic() - t0 < 60  # not the whole --timeout


# ---- fold weights as Kaggle Models ----------------------------------------------------------------
WEIGHTS = [f"{USER}/uspppm-minilm/transformers/fold{k}/1" for k in range(2)]


def test_inference_reads_fold_weights_from_kaggle_models(stub, tmp_path, capsys):
    ws = [x for w in WEIGHTS for x in ("--weights", w)]
    rc, out, err = cli(capsys, *BASE, "--folds", 2, *ws, "--competition", COMP, "--dir", tmp_path / "k", "--dry-run")
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["uspppm-infer"]  # no fold kernel
    m = meta(tmp_path / "k" / "uspppm-infer")
    assert m["model_sources"] == WEIGHTS and m["kernel_sources"] == [] and m["enable_internet"] is False
    assert injected(tmp_path / "k" / "uspppm-infer")["model_dirs"] == [
        f"/kaggle/input/uspppm-minilm/transformers/fold{k}/1" for k in range(2)
    ]
    rc, out, err = cli(capsys, *BASE, "--folds", 2, *ws, "--competition", COMP)
    assert rc == 0, err
    [call] = stub.api("SaveKernel")  # only the inference kernel, pushed at once: no fold to wait for
    assert call.json["slug"] == f"{USER}/uspppm-infer" and call.json["modelDataSources"] == WEIGHTS
    assert not stub.api("GetKernelSessionStatus")
    rc, _, err = cli(capsys, *BASE, "--weights", f"{USER}/uspppm-minilm/transformers/fold0", "--dir", tmp_path / "x",
                     "--dry-run")  # fmt: skip
    assert rc == 2 and "owner/model/framework/variation/N" in err and not (tmp_path / "x").exists()


def test_fold_models_are_found_at_kaggle_model_mounts(tmp_path, monkeypatch):
    from kagglenlp.patents.storage import find_fold_dirs

    root = tmp_path / "kaggle"
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Batch")
    monkeypatch.setenv("KAGGLENLP_KAGGLE_ROOT", str(root))
    for layout in ("", "models/stubuser/"):  # both layouts Kaggle has mounted models in
        for k in range(2):
            d = root / "input" / f"{layout}uspppm-minilm/transformers/fold{k}/1"
            d.mkdir(parents=True)
            (d / "input_format.json").write_text('{"arch": "cross"}')
            (d / "done.json").write_text(json.dumps(dict(experiment="e", split_id="s", fold=k, n_folds=2)))
        dirs = [f"/kaggle/input/uspppm-minilm/transformers/fold{k}/1" for k in range(2)]  # as fold_kernels writes
        got = find_fold_dirs(dirs)
        assert [str(p.relative_to(root / "input")) for p in got] == [
            f"{layout}uspppm-minilm/transformers/fold{k}/1" for k in range(2)
        ]
        shutil.rmtree(root / "input")
