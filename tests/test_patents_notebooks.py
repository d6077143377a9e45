"""The patents notebooks run unchanged (papermill, as Kaggle runs them) on the demo data with tiny settings."""

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from helpers import PATENTS_TINY

from kagglenlp.cli import main
from kagglenlp.patents.data import write_demo

NB = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", ["10-patents-folds.ipynb", "11-patents-inference.ipynb"])
def test_notebook_is_kaggle_ready(name):
    nb = nbformat.read(NB / name, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"  # Kaggle's papermill needs it (kaggle-cli #689)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.get("outputs") for c in code)


@pytest.mark.e2e  # executes notebooks (papermill) that train
def test_folds_then_inference_notebooks(proj):
    import papermill as pm

    d = write_demo(proj / "input" / "demo")
    pm.execute_notebook(
        str(NB / "10-patents-folds.ipynb"),
        str(proj / "10.ipynb"),
        kernel_name="python3",
        cwd=str(proj),
        parameters=dict(data=str(d), model="minilm", name="nb", folds=2, settings={"max_steps": 2, "bs": 8}),
        progress_bar=False,
    )
    nb = nbformat.read(proj / "10.ipynb", as_version=4)
    outs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outs), "the OOF scatter plot is shown"
    assert any("OOF Pearson" in o.get("text", "") for o in outs)
    assert (proj / "outputs" / "nb" / "cv.json").exists() and (proj / "submissions" / "nb.csv").exists()

    pm.execute_notebook(
        str(NB / "11-patents-inference.ipynb"),
        str(proj / "11.ipynb"),
        kernel_name="python3",
        cwd=str(proj),
        parameters=dict(data=str(d), name="nb"),
        progress_bar=False,
    )
    sub, ref = pd.read_csv(proj / "submission.csv"), pd.read_csv(proj / "submissions" / "nb.csv")
    assert sub.id.tolist() == ref.id.tolist() and (sub.score - ref.score).abs().max() < 1e-5
    # a second local run must not silently replace the file
    with pytest.raises(pm.PapermillExecutionError, match="exists"):
        pm.execute_notebook(
            str(NB / "11-patents-inference.ipynb"),
            str(proj / "11b.ipynb"),
            kernel_name="python3",
            cwd=str(proj),
            parameters=dict(data=str(d), name="nb"),
            progress_bar=False,
        )


def test_blend_notebook_defaults_name_experiments_the_code_makes():
    "Notebook 12's default `experiments` are names the code gives: `patents zeroshot`, `patents train --text cpc`."
    from kagglenlp.patents.config import PatentsConfig, exp_name
    from kagglenlp.patents.zeroshot import ZeroShotConfig, zeroshot_name

    nb = nbformat.read(NB / "12-patents-blend.ipynb", as_version=4)
    params = {}
    exec([c for c in nb.cells if c.cell_type == "code"][0].source, params)
    made = [zeroshot_name(ZeroShotConfig(data=".")), exp_name(PatentsConfig(data=".", model="minilm", text="cpc"))]
    assert params["experiments"] == made == ["zeroshot-minilm-seed-group5", "minilm-bi-cpc-group5"]


@pytest.mark.e2e  # trains two experiments, then executes notebook 12 (papermill)
def test_blend_notebook(proj):
    import papermill as pm

    d = write_demo(proj / "input" / "demo")
    for name, text in (("bi-seed", "seed"), ("bi-cpc", "cpc")):
        assert main(["patents", "train", "--data", str(d), *PATENTS_TINY, "--text", text, "--name", name]) == 0
    pm.execute_notebook(
        str(NB / "12-patents-blend.ipynb"),
        str(proj / "12.ipynb"),
        kernel_name="python3",
        cwd=str(proj),
        parameters=dict(experiments=["bi-seed", "bi-cpc"], name="nb-blend", method="nnls"),
        progress_bar=False,
    )
    nb = nbformat.read(proj / "12.ipynb", as_version=4)
    outs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outs), "the OOF scatter plot is shown"
    assert any("blend nested-CV Pearson" in o.get("text", "") for o in outs)
    blend = json.loads((proj / "outputs" / "nb-blend" / "blend.json").read_text())
    assert set(blend["weights"]) == {"bi-seed", "bi-cpc"} and abs(sum(blend["weights"].values()) - 1) < 1e-6
    sub, sample = pd.read_csv(proj / "submissions" / "nb-blend.csv"), pd.read_csv(d / "sample_submission.csv")
    assert sub.id.tolist() == sample.id.tolist() and sub.score.between(0, 1).all()
