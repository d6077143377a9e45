"""The IMDb notebook executes end to end (papermill) on tiny generated data with a tiny AWD-LSTM."""

import json
from pathlib import Path

import pytest
from helpers import IMDB_TINY_KW

from kagglenlp.imdb.toy import write_toy_csv

NB = Path(__file__).resolve().parents[1] / "notebooks" / "20-imdb-ulmfit.ipynb"
TINY = IMDB_TINY_KW


@pytest.mark.e2e  # executes the notebook (papermill), which trains
def test_notebook_runs(tmp_path, monkeypatch):
    pm = pytest.importorskip("papermill")
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    csv = write_toy_csv(tmp_path / "t.csv", n=24)
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(NB),
        str(out),
        parameters=dict(data=str(csv), name="nb", settings=TINY),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    m = json.loads((tmp_path / "outputs" / "nb" / "metrics.json").read_text())
    assert {"lm_fwd_1_unfrozen", "clas_fwd_3_all"} <= set(m["stages"]) and m["summary"]["n_valid"] == 6
    text = out.read_text()
    assert "xxbos" in text and "I liked this movie because" in text and "prob_pos" in text
    rec = json.loads((tmp_path / "outputs" / "nb" / "experiment.json").read_text())
    assert rec["settings"]["emb_sz"] == 16 and rec["settings"]["lm_epochs"] == [1, 1]  # the overrides reached the run
