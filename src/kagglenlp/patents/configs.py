"""Patents config files (`configs/*.toml`): a `PatentsConfig` from a file plus overrides, and the same file as
notebook 10's parameters for one-kernel-per-fold pushes (`kaggle folds --config`)."""

from pathlib import Path

from ..args import config_to_dataclass, read_config
from .config import PatentsConfig

__all__ = ["CONFIG_DIR", "patents_config", "kernel_params", "NOTEBOOK_PARAMS"]

# The shipped recipes: package data (in a wheel too); `configs/` at a checkout's root links here.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
NOTEBOOK_PARAMS = ("model", "name", "folds", "split", "seed")  # notebook 10's own parameters; the rest go in `settings`


def patents_config(path=None, **overrides):
    "The `PatentsConfig` of TOML file `path` (if any) with `overrides` winning (e.g. notebook 10's parameters)."
    return config_to_dataclass(PatentsConfig, path, **overrides)


def kernel_params(path):
    """Notebook 10's parameters for the settings in TOML file `path`: `model`, `name`, `folds`, `split`, `seed` as
    their own parameters, every other setting in `settings` (`data` and `fold` left to the kernel). A fold kernel
    cannot read a local file, so `kaggle folds --config FILE` should inline these (its `--folds` from `folds`)."""
    vals = {k: v for k, v in read_config(path, PatentsConfig).items() if k not in ("data", "fold", "overwrite")}
    params = {k: vals.pop(k) for k in NOTEBOOK_PARAMS if k in vals}
    return {**params, "settings": vals}
