"""Shared fixtures: an isolated project root per test, the generated demo data, and the shared real data."""

import os

import pytest

from kagglenlp.paths import shared_data

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a hub: a missing model must fail fast
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def proj(tmp_path, monkeypatch):
    "A fresh project root (outputs/, submissions/, input/) for one test."
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def data_dir():
    "The shared real data folder, or skip with the reason."
    d = shared_data()
    if d is None:
        pytest.skip("real data not found: set KAGGLENLP_DATA or put the shared data at ../shared/data")
    return d
