"""The patents notebooks run unchanged (papermill, as Kaggle runs them) on the demo data with tiny settings."""

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from kagglenlp.patents.demo import write_demo

NB = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", ["10-patents-folds.ipynb", "11-patents-inference.ipynb"])
def test_notebook_is_kaggle_ready(name):
    nb = nbformat.read(NB / name, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"  # Kaggle's papermill needs it (kaggle-cli #689)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.get("outputs") for c in code)


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
