"""Train on every visible GPU from a notebook: one process per GPU through `torchrun` (DDP), or in-process on one.

A `Trainer` started inside a notebook on Kaggle's T4 x2 would run `nn.DataParallel` in one process; `train(cfg)`
instead launches `torchrun --nproc_per_node N -m kagglenlp patents train ...` with `cfg`'s settings, so each GPU
gets its own process and rank 0 alone writes the experiment. With one GPU or none it calls `run_experiment`.
"""

import subprocess
import sys
from dataclasses import fields

from .. import paths
from ..errors import UserError
from ..experiment import read_json
from .config import PatentsConfig, exp_name

__all__ = ["visible_gpus", "cli_args", "launch_command", "train"]


def visible_gpus():
    "Number of CUDA devices this process can see."
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def cli_args(cfg):
    "`kagglenlp patents train` options reproducing `cfg` (only the settings that differ from the defaults)."
    args = ["--data", str(cfg.data)]
    for f in fields(PatentsConfig):
        v = getattr(cfg, f.name)
        if not f.init or f.name == "data" or v == f.default:
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(v, bool):
            args.append(flag if v else "--no-" + f.name.replace("_", "-"))
        else:
            args += [flag, str(v)]
    return args


def launch_command(cfg, gpus):
    "The torchrun command line that trains `cfg` on `gpus` processes."
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={gpus}",
        "-m",
        "kagglenlp",
        "patents",
        "train",
        *cli_args(cfg),
    ]


def train(cfg, gpus=None):
    """Train experiment `cfg` on `gpus` GPUs (default: all visible); returns its CV dict, or None while folds are
    missing. More than one GPU runs DDP in child processes whose output is shown as it comes."""
    from .run import run_experiment

    n = visible_gpus() if gpus is None else int(gpus)
    if n <= 1:
        return run_experiment(cfg)
    print("launching: " + " ".join(launch_command(cfg, n)), flush=True)
    p = subprocess.run(launch_command(cfg, n), stdout=sys.stdout, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(p.stderr[-20000:])
    if p.returncode != 0:
        errs = [line for line in p.stderr.splitlines() if line.startswith("error: ")]
        raise UserError(errs[-1][len("error: ") :] if errs else f"training on {n} GPUs failed (exit {p.returncode})")
    cv = paths.exp_dir(exp_name(cfg)) / "cv.json"
    return read_json(cv) if cv.exists() and cfg.fold is None else None
