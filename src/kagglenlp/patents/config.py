"""The patents experiment's settings: each hyperparameter stated once, with its help text (run_glue style).

`PatentsConfig` is what `kagglenlp patents train` parses and notebook 10 builds from its overrides. Every setting
is checked and every default resolved when the config is built (`__post_init__`), before anything is written:
the fields keep what the user gave (`lr=None`: "the recipe's default"), and `eff_lr` / `eff_head_lr` hold the
values training uses, so `dataclasses.replace(cfg, arch="cross")` takes the cross-encoder's LR. `settings(cfg)`
(what `experiment.json` records and a resume compares) holds the effective values: changing a built-in default
makes a rerun of an old experiment refuse, naming the setting. Every field changes results unless it is listed
in `IGNORED_ON_RESUME`. The architecture choice is made in one place, `cfg.recipe` (the registry in `models/`).

Config files (`configs/*.toml`): `patents_config(path, **overrides)` is a `PatentsConfig` from a file plus
overrides, and `kernel_params(path)` the same file as notebook 10's parameters for one-kernel-per-fold pushes
(`kaggle folds --config`).
"""

import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Optional

from ..args import config_to_dataclass, opt, read_config
from ..errors import require
from ..tracking import REPORT_TO
from .folds import SPLITS, check_n_folds
from .inputs import FORMATS, MAX_LEN, MIN_LEN
from .models import REGISTRY, get_recipe
from .models.recipe import LOSSES, POOLS

__all__ = [
    "PatentsConfig",
    "DEFAULT_MODEL",
    "DEFAULT_TEXT",
    "IGNORED_ON_RESUME",
    "exp_name",
    "settings",
    "model_settings",
    "default_name",
    "CONFIG_DIR",
    "patents_config",
    "kernel_params",
    "NOTEBOOK_PARAMS",
]

DEFAULT_MODEL = "microsoft/deberta-v3-small"
DEFAULT_TEXT = "seed"  # the lesson string (cross); the bare phrases (bi): measured by scripts/compare_recipes.py

# Settings that never change a result (beyond float rounding): a resumed run may differ in them. `data` and
# `titles` are paths whose *content* is fingerprinted instead, so moving the same files elsewhere still resumes.
# `eval_bs` and `grad_checkpointing` only trade memory for speed: an out-of-memory run may resume with other
# values; `full` adds the all-rows model beside the folds (it changes neither the folds nor the training
# submission).
IGNORED_ON_RESUME = (
    "name",
    "fold",
    "overwrite",
    "data",
    "titles",
    "compile",
    "report_to",
    "eval_bs",
    "grad_checkpointing",
    "full",
)
ADVS = ("none", "fgm", "awp")  # --adv choices (tricks.adversarial.ADV, without importing torch here)
RESOLVED = {"lr": "eff_lr", "head_lr": "eff_head_lr"}  # field the user sets -> field holding the value used


@dataclass
class PatentsConfig:
    "Train the CV folds of one experiment (bi- or cross-encoder, --arch); write OOF, CV and the submission."

    data: str = opt(help="folder with train.csv, test.csv, sample_submission.csv")
    model: str = opt(
        DEFAULT_MODEL, "hub name, local folder (save_pretrained output), or alias 'minilm' (offline MiniLM-L6)"
    )
    folds: int = opt(5, "number of CV folds")
    split: str = opt("group", "fold splitter", choices=SPLITS)
    text: str = opt(
        DEFAULT_TEXT,
        "input format. seed: for --arch cross the lesson's string 'TEXT1: context; TEXT2: target; ANC1: anchor', "
        "for --arch bi the bare phrases (the context is not used); cpc: the CPC title instead of the code (bi: "
        "on the anchor side); pair, cpc-siblings: cross only",
        choices=FORMATS,
    )
    titles: Optional[str] = opt(None, "JSON file of CPC code -> title (default: built-in section titles)")
    sib_cap: Optional[int] = opt(None, "cap on sibling targets per row (cpc-siblings)")
    max_len: int = opt(MAX_LEN, f"truncate inputs to this many tokens (at least {MIN_LEN})")
    arch: str = opt(
        "bi",
        "recipe. bi: anchor and target embedded apart, cosine score (needs --text seed or cpc; best at "
        "small CPU budgets); cross: one encoder reads the pair (best on a GPU with the full data; measured in "
        "docs/patents.md)",
        choices=REGISTRY,
    )
    pool: str = opt(
        "cls", "cross-encoder pooling: first token, mean over real tokens, or learned attention", choices=POOLS
    )
    loss: str = opt("mse", "mse on the score, or bce with logits (sigmoid at prediction)", choices=LOSSES)
    head_lr: Optional[float] = opt(
        None, "learning rate of the head (default: the recipe's: 1e-2 for bi's scale and bias, --lr for cross)"
    )
    lr_decay: float = opt(
        1.0,
        "layer-wise LR decay: each layer below the top gets this times the LR above (1: off)",
    )
    head_dropout: float = opt(0.1, "dropout on the pooled vector before the head (cross-encoder)")
    epochs: float = opt(4, "training epochs per fold")
    lr: Optional[float] = opt(
        None, "peak learning rate (default: the recipe's: 2e-4 for bi, the lesson's 8e-5 for cross)"
    )
    bs: int = opt(128, "train batch size (eval uses twice this)")
    wd: float = opt(0.01, "weight decay")
    warmup: float = opt(0.1, "warmup as a fraction of all steps, in [0, 1)")
    max_steps: int = opt(-1, "stop each fold after this many steps (smoke tests); -1: use --epochs")
    max_rows: Optional[int] = opt(None, "train on about this many rows (whole anchors)")
    # the competition toolbox (docs/toolbox.md): every one off by default
    evals_per_epoch: int = opt(
        0, "evaluate N times per epoch and keep the best checkpoint by Pearson (0: the last step, as before)"
    )
    grad_accum: int = opt(1, "gradient accumulation steps: effective batch = --bs x devices x this")
    grad_checkpointing: bool = opt(
        False,
        "recompute the backbone's activations in the backward pass (less memory)",
    )
    eval_bs: Optional[int] = opt(None, "evaluation and prediction batch size (default: twice --bs)")
    adv: str = opt(
        "none", "adversarial training (cross): FGM on the word embeddings or AWP on the weights", choices=ADVS
    )
    adv_start: float = opt(0.0, "epoch from which --adv is active (counted from 0; 1: from the second epoch)")
    adv_lr: float = opt(1.0, "AWP step size, relative to each weight's norm")
    adv_eps: float = opt(0.01, "FGM: the embedding step's norm; AWP: the bound on each weight's relative change")
    ema: float = opt(0.0, "exponential moving average of the weights with this decay, e.g. 0.999 (cross; 0: off)")
    msd: int = opt(0, "multi-sample dropout: the head averaged over N dropout masks (cross; 0 or 1: off)")
    freeze_embeddings: bool = opt(False, "do not train the backbone's embedding layer (cross)")
    sib_shuffle: bool = opt(False, "a new sibling order every epoch (cross, --text cpc-siblings)")
    full: bool = opt(
        False,
        "also train one model on all training rows for the folds' mean best step (needs --evals-per-epoch), saved "
        "as full/ beside the folds (patents predict --full-weight mixes it in)",
    )
    tta: int = opt(
        1,
        "predict as the mean over N sibling orders: sorted, then N-1 shuffled (cpc-siblings; 1: off)",
    )
    date_col: str = opt("date", "date column for --split time")
    gap: int = opt(0, "dates left out between train and validation for --split time")
    seed: int = opt(42, "random seed for folds, sampling and training")
    compile: bool = opt(False, "torch.compile the model for training (GPU; see docs/performance.md first)")
    report_to: str = opt("none", "log each fold to a tracker (run <name>/fold<k>)", choices=REPORT_TO)
    name: Optional[str] = opt(
        None, "experiment name: outputs/<name>/ (default: model-arch-text-split<folds>[-<hash of other settings>])"
    )
    fold: Optional[int] = opt(None, "train only this fold (e.g. one Kaggle kernel per fold)")
    overwrite: bool = opt(False, "delete outputs/<name>/ and its submission and start over")
    # resolved in __post_init__ from the fields above and the recipe's defaults (never passed in)
    eff_lr: float = field(init=False, repr=False)
    eff_head_lr: float = field(init=False, repr=False)
    eff_eval_bs: int = field(init=False, repr=False)

    def __post_init__(self):
        check_config(self)
        r = self.recipe
        self.eff_lr = self.lr if self.lr is not None else r.default_lr
        self.eff_head_lr = self.head_lr if self.head_lr is not None else (r.default_head_lr or self.eff_lr)
        self.eff_eval_bs = self.eval_bs or self.bs * 2

    @property
    def recipe(self):
        "The registered recipe of `--arch` (the one place the architecture is chosen)."
        return get_recipe(self.arch)


def _positive(v, flag, none_ok=False):
    "`UserError` unless `v` is a finite number above 0 (or None when `none_ok`)."
    if v is None and none_ok:
        return
    require(v is not None and math.isfinite(v) and v > 0, f"{flag} must be a positive number, got {v}")


def check_config(cfg):
    "Raise `UserError` for any setting of `cfg` that cannot train (one `error:` line, nothing written yet)."
    for f in fields(cfg):
        ch = f.metadata.get("choices")
        if f.name == "text":  # the built-in formats and the input steps registered in this process (`steps.py`)
            from .steps import INPUTS

            ch = (*ch, *INPUTS)
        if ch is not None:
            flag = "--" + f.name.replace("_", "-")
            v = getattr(cfg, f.name)
            require(v in ch, f"unknown {flag} {v!r}; choose one of {', '.join(ch)}")
    check_n_folds(cfg.folds)
    require(cfg.max_len >= MIN_LEN, f"--max-len must be at least {MIN_LEN} tokens, got {cfg.max_len}")
    _positive(cfg.epochs, "--epochs")
    require(
        cfg.max_steps == -1 or cfg.max_steps > 0,
        f"--max-steps must be -1 (use --epochs) or positive, got {cfg.max_steps}",
    )
    _positive(cfg.bs, "--bs")
    _positive(cfg.lr, "--lr", none_ok=True)
    _positive(cfg.head_lr, "--head-lr", none_ok=True)
    require(math.isfinite(cfg.wd) and cfg.wd >= 0, f"--wd must be zero or positive, got {cfg.wd}")
    require(0 <= cfg.warmup < 1, f"--warmup is a fraction of all steps: it must be in [0, 1), got {cfg.warmup}")
    require(0 < cfg.lr_decay <= 1, f"--lr-decay must be in (0, 1], got {cfg.lr_decay}")
    require(0 <= cfg.head_dropout < 1, f"--head-dropout must be in [0, 1), got {cfg.head_dropout}")
    _positive(cfg.sib_cap, "--sib-cap", none_ok=True)
    _positive(cfg.max_rows, "--max-rows", none_ok=True)
    require(cfg.gap >= 0, f"--gap must be zero or positive, got {cfg.gap}")
    require(cfg.fold is None or cfg.fold >= 0, f"--fold must be a fold number (0, 1, ...), got {cfg.fold}")
    check_toolbox(cfg)
    cfg.recipe.check(cfg)


def check_toolbox(cfg):
    "Raise `UserError` for an out-of-range toolbox option of `cfg` (docs/toolbox.md)."
    require(
        cfg.evals_per_epoch >= 0,
        f"--evals-per-epoch must be zero (off) or positive, got {cfg.evals_per_epoch}",
    )
    require(cfg.grad_accum >= 1, f"--grad-accum must be at least 1, got {cfg.grad_accum}")
    _positive(cfg.eval_bs, "--eval-bs", none_ok=True)
    require(
        math.isfinite(cfg.adv_start) and cfg.adv_start >= 0,
        f"--adv-start must be zero or positive, got {cfg.adv_start}",
    )
    _positive(cfg.adv_lr, "--adv-lr")
    _positive(cfg.adv_eps, "--adv-eps")
    require(0 <= cfg.ema < 1, f"--ema is a decay: it must be in [0, 1) (0: off), got {cfg.ema}")
    require(cfg.msd >= 0, f"--msd must be zero (off) or positive, got {cfg.msd}")
    require(
        not cfg.full or cfg.evals_per_epoch > 0,
        "--full trains for the folds' mean best step: it needs --evals-per-epoch N (the folds record their best step)",
    )
    require(cfg.tta >= 1, f"--tta must be at least 1 (1: off), got {cfg.tta}")
    require(
        not (cfg.adv == "fgm" and cfg.freeze_embeddings),
        "--adv fgm moves the word embeddings along their gradient: frozen ones (--freeze-embeddings) have none; "
        "use --adv awp or drop one",
    )
    for flag, on in (("--sib-shuffle", cfg.sib_shuffle), ("--tta", cfg.tta > 1)):
        require(not on or cfg.text == "cpc-siblings", f"{flag} reorders siblings: it needs --text cpc-siblings")


def settings(cfg):
    """The settings of `cfg` as a plain dict, defaults resolved (what `experiment.json` records and resumes
    compare)."""
    d = {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.init}
    from .steps import fingerprints

    return {**d, **{k: getattr(cfg, eff) for k, eff in RESOLVED.items()}, **fingerprints(cfg)}


def model_settings(cfg):
    "The settings that change a fold's model (what each fold's `done.json` records; `predict` refuses a mix)."
    return {k: v for k, v in settings(cfg).items() if k not in IGNORED_ON_RESUME}


def default_name(base, current, defaults, skip=()):
    "`base`, plus a short hash of the settings in `current` (a dict) that differ from `defaults`, except `skip`."
    changed = {k: v for k, v in current.items() if k not in skip and v != defaults.get(k)}
    if not changed:
        return base
    return f"{base}-{hashlib.sha1(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:6]}"


# Settings already spelled out in a default experiment name (or not changing results).
_IN_NAME = ("model", "arch", "text", "split", "folds", *IGNORED_ON_RESUME)


def exp_name(cfg):
    """`cfg.name`, or model-arch-text-split<folds>, plus a short hash of any other setting that differs from its
    default."""
    if cfg.name:
        return cfg.name
    from .models.backbone import model_label

    base = f"{model_label(cfg.model)}-{cfg.arch}-{cfg.text}-{cfg.split}{cfg.folds}"
    defaults = PatentsConfig(data=cfg.data, arch=cfg.arch, text=cfg.text)  # e.g. the LR depends on --arch
    return default_name(base, _name_settings(cfg), _name_settings(defaults), _IN_NAME)


def _name_settings(cfg):
    "The settings a default name hashes: as given, but the effective LR (so names made by older versions stay)."
    return {**{f.name: getattr(cfg, f.name) for f in fields(cfg) if f.init}, "lr": cfg.eff_lr}


# The shipped recipes: package data (in a wheel too); `configs/` at a checkout's root links here.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
# notebook 10's own parameters; the rest go in `settings`
NOTEBOOK_PARAMS = ("model", "name", "folds", "split", "seed")


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
