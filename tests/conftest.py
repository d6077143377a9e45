"""Shared fixtures: an isolated project root per test and the shared real data.

Markers (registered in pyproject.toml): `slow` needs the real data (left out by default); `e2e` trains end to end,
runs torchrun, builds a venv, executes notebooks, rehearses kernels or kills a run (`-m "not slow and not e2e"` is
the fast lane).
"""

import os

import pytest

from kagglenlp.paths import shared_data

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a hub: a missing model must fail fast
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _registries():
    "Steps and recipes a test defines (as a notebook cell does) are gone after it: no test sees another's."
    from kagglenlp.patents.models.recipe import REGISTRY
    from kagglenlp.patents.steps import INPUTS

    saved = dict(INPUTS), dict(REGISTRY)
    yield
    for reg, before in zip((INPUTS, REGISTRY), saved):
        reg.clear()
        reg.update(before)


@pytest.fixture
def root(tmp_path, monkeypatch):
    "`KAGGLENLP_ROOT` set to a fresh folder for one test (the current folder is left alone)."
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    return tmp_path


@pytest.fixture
def proj(root, monkeypatch):
    "A fresh project root (outputs/, submissions/, input/) for one test, also the current folder, not on Kaggle."
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def demo(proj):
    "The generated patents demo data written to `input/demo` of a fresh project root; returns that folder."
    from kagglenlp.patents.data import write_demo

    return write_demo(proj / "input" / "demo")


@pytest.fixture(scope="session")
def data_dir():
    "The shared real data folder, or skip with the reason."
    d = shared_data()
    if d is None:
        pytest.skip("real data not found: set KAGGLENLP_DATA or put the shared data at ../shared/data")
    return d
