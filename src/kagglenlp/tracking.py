"""Experiment tracking through the HF `Trainer`'s own integrations (`report_to`), one run per fold.

`tracking_run(report_to, run_name, settings)` wraps one fold's training: the run is named `<experiment>/fold<k>`
and gets the experiment's settings as its parameters (prefixed `exp.`, beside the `TrainingArguments` the
integration logs itself), then the `Trainer`'s callback logs the losses and metrics into that same run.

- `tensorboard`: event files under `outputs/tensorboard/<experiment>/fold<k>/` (`tensorboard --logdir
  outputs/tensorboard` to look; nothing here starts it);
- `mlflow`: the tracking URI from `MLFLOW_TRACKING_URI` when set, else a local SQLite store
  `outputs/mlruns/mlflow.db` (no server; `mlflow ui --backend-store-uri sqlite:///outputs/mlruns/mlflow.db`);
- `wandb`: `wandb.init(name=..., group=<experiment>, config=settings)`; W&B's own variables (`WANDB_PROJECT`,
  `WANDB_MODE=offline`) apply.
Only the main process (rank 0) opens a run, as the integrations log only there.
"""

import json
import os
import shutil
from contextlib import contextmanager

from . import dist, paths

__all__ = ["REPORT_TO", "tracking_run", "mlflow_uri", "tensorboard_dir", "flat_params"]

REPORT_TO = ("none", "tensorboard", "mlflow", "wandb")


def mlflow_uri():
    """The MLflow tracking URI: `MLFLOW_TRACKING_URI` if the user set it, else the local store under
    `outputs/mlruns`."""
    default = f"sqlite:///{paths.outputs_dir().resolve() / 'mlruns' / 'mlflow.db'}"
    return os.environ.get("MLFLOW_TRACKING_URI") or default


def tensorboard_dir(run_name):
    "Where TensorBoard event files of run `run_name` (`<experiment>/fold<k>`) go."
    return paths.outputs_dir() / "tensorboard" / run_name


def flat_params(settings, prefix="exp."):
    "`settings` as tracker parameters: `prefix` + key, None as '', lists as JSON."
    return {
        prefix + k: json.dumps(v) if isinstance(v, (list, tuple, dict)) else ("" if v is None else v)
        for k, v in settings.items()
    }


@contextmanager
def tracking_run(report_to, run_name, settings):
    "Open run `run_name` of tracker `report_to` with `settings` as its parameters, for the `Trainer` to log into."
    if report_to in (None, "none") or not dist.is_main():
        yield
        return
    if report_to == "tensorboard":
        with _tensorboard(run_name, settings):
            yield
    elif report_to == "mlflow":
        with _mlflow(run_name, settings):
            yield
    elif report_to == "wandb":
        import wandb

        run = wandb.init(name=run_name, group=run_name.split("/")[0], config=settings, reinit=True)
        try:
            yield
        finally:
            run.finish()
    else:
        raise ValueError(f"unknown tracker {report_to!r}")


@contextmanager
def _tensorboard(run_name, settings):
    "Point the `Trainer`'s TensorBoard callback at `tensorboard_dir(run_name)` and record `settings` there."
    from torch.utils.tensorboard import SummaryWriter

    d = tensorboard_dir(run_name)
    shutil.rmtree(d, ignore_errors=True)  # a fold trained again starts a fresh log
    d.mkdir(parents=True)
    table = "\n".join(["| setting | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in settings.items())])
    with SummaryWriter(log_dir=str(d)) as w:
        w.add_text("experiment_settings", table)
    old = os.environ.get("TENSORBOARD_LOGGING_DIR")
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(d)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TENSORBOARD_LOGGING_DIR", None)
        else:
            os.environ["TENSORBOARD_LOGGING_DIR"] = old


@contextmanager
def _mlflow(run_name, settings):
    "An active MLflow run named `run_name` with `settings` as parameters (the `Trainer`'s callback reuses it)."
    import mlflow

    if "MLFLOW_TRACKING_URI" not in os.environ:
        (paths.outputs_dir() / "mlruns").mkdir(parents=True, exist_ok=True)
        os.environ["MLFLOW_TRACKING_URI"] = mlflow_uri()  # the callback reads it too
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    with mlflow.start_run(run_name=run_name, tags={"experiment": run_name.split("/")[0]}):
        mlflow.log_params(flat_params(settings))
        yield
