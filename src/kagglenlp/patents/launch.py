"""Train on every visible GPU from a notebook: one process per GPU forked from the notebook (DDP), or in process.

A `Trainer` started inside a notebook on Kaggle's T4 x2 would run `nn.DataParallel` in one process; `train(cfg)`
instead starts one process per GPU with accelerate's `notebook_launcher`, which forks the notebook's own process:
an input step, head or recipe defined in a cell (`steps.py`) is there in every rank, as it is in process. Rank 0
alone writes the experiment (`dist.py`). CUDA must not be initialised in the notebook before the launch (nothing
here touches it: the GPUs are counted through NVML). On a machine without GPUs, `gpus=2` runs two CPU processes
(gloo): the same path, which the tests take. With one GPU or none it calls `run_experiment`. The command line
keeps `torchrun -m kagglenlp patents train ...` (docs/patents.md).
"""

import os
import socket
import tempfile
from pathlib import Path

from .. import paths
from ..errors import UserError, require
from ..experiment import read_json
from .config import exp_name

__all__ = ["visible_gpus", "free_port", "train"]

# torch's own switch: `torch.cuda.is_available()` asks NVML instead of initialising CUDA, so that a library calling
# it in the notebook (before the launch) does not leave the forked processes unable to use the GPUs.
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")


def visible_gpus():
    "Number of CUDA devices this process can see, counted without initialising CUDA (a later fork can use them)."
    import torch

    return torch.cuda.device_count()


def free_port():
    "A TCP port on 127.0.0.1 that nothing listens on now (the launch's rendezvous; two notebooks may run at once)."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _each_rank(cfg, errors):
    "One launched process: `run_experiment(cfg)`; a `UserError` is also left in folder `errors` for the notebook."
    from .run import run_experiment

    try:
        run_experiment(cfg)
    except UserError as e:
        (Path(errors) / f"rank{os.environ.get('RANK', '0')}.txt").write_text(str(e))
        raise


def train(cfg, gpus=None):
    """Train experiment `cfg` on `gpus` processes (default: one per visible GPU); returns its CV dict, or None
    while folds are missing. Two or more fork this process (`notebook_launcher`): what the notebook defined is in
    each."""
    from .run import run_experiment

    n = visible_gpus() if gpus is None else int(gpus)
    if n <= 1:
        return run_experiment(cfg)
    import torch
    from accelerate import notebook_launcher

    require(
        not torch.cuda.is_initialized(),
        f"CUDA is already in use in this notebook, so its {n} processes cannot be forked: restart the kernel and "
        "run the cells without moving anything to the GPU before this one (the model cells build it on the CPU)",
    )

    # An earlier in-process run in this kernel (a `gpus=1` training, `patents(...)`) leaves accelerate's state,
    # which `notebook_launcher` refuses. With CUDA untouched that state describes one CPU process only, and nothing
    # of it is needed by the forked ranks (each builds its own): drop it, as accelerate's own tests do.
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    with tempfile.TemporaryDirectory(prefix="kagglenlp-launch-") as errors:
        try:
            notebook_launcher(_each_rank, (cfg, errors), num_processes=n, use_port=str(free_port()))
        except Exception as e:
            msgs = sorted(Path(errors).glob("rank*.txt"))
            if msgs:  # the ranks' own error (the same on each: `dist.share`), as one line
                raise UserError(msgs[0].read_text()) from None
            raise UserError(f"training on {n} processes failed: {str(e).strip().splitlines()[0][:500]}") from e
    cv = paths.exp_dir(exp_name(cfg)) / "cv.json"
    return read_json(cv) if cv.exists() and cfg.fold is None else None
