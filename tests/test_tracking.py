"""`--report-to`: one tracker run per fold named `<experiment>/fold<k>`, with the experiment's settings as params."""

import pytest

from kagglenlp.cli import main
from kagglenlp.patents.data import write_demo
from kagglenlp.tracking import flat_params, mlflow_uri

TINY = ["--model", "minilm", "--folds", "2", "--max-steps", "1", "--bs", "8", "--seed", "0"]


def test_flat_params():
    assert flat_params({"lr": 1e-3, "titles": None, "lr_epochs": [1, 2]}) == {
        "exp.lr": 1e-3,
        "exp.titles": "",
        "exp.lr_epochs": "[1, 2]",
    }


@pytest.mark.e2e  # trains
def test_tensorboard_event_files_per_fold(proj):
    pytest.importorskip("tensorboard")
    d = write_demo(proj / "input" / "demo")
    assert main(["patents", "train", "--data", str(d), *TINY, "--name", "tb", "--report-to", "tensorboard"]) == 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for k in range(2):
        run = proj / "outputs" / "tensorboard" / "tb" / f"fold{k}"
        assert list(run.glob("events.out.tfevents.*")), run
        ea = EventAccumulator(str(run), size_guidance={"tensors": 0})
        ea.Reload()
        tags = ea.Tags()
        assert any(t.startswith("experiment_settings") for t in tags["tensors"]), tags  # our settings text
        assert any("loss" in t for t in tags["scalars"]), tags  # the Trainer's own logging


@pytest.mark.e2e  # trains
def test_mlflow_local_store_run_with_params(proj, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    d = write_demo(proj / "input" / "demo")
    assert main(["patents", "train", "--data", str(d), *TINY, "--name", "ml", "--report-to", "mlflow"]) == 0
    assert (proj / "outputs" / "mlruns" / "mlflow.db").exists()
    import os

    assert os.environ["MLFLOW_TRACKING_URI"] == mlflow_uri() and str(proj) in mlflow_uri()
    mlflow.set_tracking_uri(mlflow_uri())
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    by_name = {r.info.run_name: r for r in runs}
    assert set(by_name) == {"ml/fold0", "ml/fold1"}
    p = by_name["ml/fold0"].data.params
    assert (
        p["exp.model"] == "minilm" and p["exp.bs"] == "8" and p["exp.folds"] == "2" and p["exp.report_to"] == "mlflow"
    )
    assert "learning_rate" in p  # the Trainer's integration logged into the same run
    assert by_name["ml/fold1"].data.metrics  # and its losses


@pytest.mark.e2e  # trains
def test_report_to_does_not_change_the_experiment(proj, capsys):
    d = write_demo(proj / "input" / "demo")
    assert main(["patents", "train", "--data", str(d), *TINY, "--name", "r"]) == 0
    capsys.readouterr()
    assert main(["patents", "train", "--data", str(d), *TINY, "--name", "r", "--report-to", "tensorboard"]) == 0
    assert "resuming: all done" in capsys.readouterr().out


def test_report_to_reaches_trainer_and_keeps_the_name(tmp_path):
    from kagglenlp.patents.config import IGNORED_ON_RESUME, PatentsConfig, exp_name
    from kagglenlp.patents.trainer import training_arguments

    off, on = PatentsConfig(data="."), PatentsConfig(data=".", report_to="tensorboard")
    assert training_arguments(on, tmp_path, run_name="e/fold0").report_to == ["tensorboard"]
    assert training_arguments(off, tmp_path).report_to == []
    assert exp_name(on) == exp_name(off) and "report_to" in IGNORED_ON_RESUME
