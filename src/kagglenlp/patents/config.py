"""The patents experiment's settings: each hyperparameter stated once, with its help text (run_glue style).

`PatentsConfig` is what `kagglenlp patents train` parses and notebook 10 builds from its overrides. Every field
changes results unless it is listed in `IGNORED_ON_RESUME`, so a field added later is compared on a resume by
default. `training_arguments` (in `train.py`) maps these fields to HF `TrainingArguments` by keyword, in one place.
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Optional

from ..args import opt
from ..tracking import REPORT_TO
from .folds import SPLITS
from .text import FORMATS

__all__ = ["PatentsConfig", "DEFAULT_MODEL", "DEFAULT_TEXT", "IGNORED_ON_RESUME", "exp_name", "settings"]

DEFAULT_MODEL = "microsoft/deberta-v3-small"
DEFAULT_LR = {"bi": 2e-4, "cross": 8e-5}  # bi: measured best at the CPU budget (README); cross: the lesson's
DEFAULT_TEXT = "seed"  # the lesson string (cross); the bare phrases (bi): measured by scripts/compare_recipes.py

# Settings that never change a result (beyond float rounding): a resumed run may differ in them. `data` and `titles`
# are paths whose *content* is fingerprinted instead, so moving the same files elsewhere still resumes.
IGNORED_ON_RESUME = ("name", "fold", "overwrite", "data", "titles", "compile", "report_to")


@dataclass
class PatentsConfig:
    "Train the CV folds of one experiment (bi- or cross-encoder, --arch); write OOF, CV and the submission."

    data: str = opt(help="folder with train.csv, test.csv, sample_submission.csv")
    model: str = opt(
        DEFAULT_MODEL, "hub name, local folder (save_pretrained output), or alias 'minilm' (offline MiniLM-L6)"
    )
    folds: int = opt(5, "number of CV folds")
    split: str = opt("group", "fold splitter", choices=SPLITS)
    text: str = opt(DEFAULT_TEXT, "input format", choices=FORMATS)
    titles: Optional[str] = opt(None, "JSON file of CPC code -> title (default: built-in section titles)")
    sib_cap: Optional[int] = opt(None, "cap on sibling targets per row (cpc-siblings)")
    max_len: int = opt(256, "truncate inputs to this many tokens")
    arch: str = opt(
        "bi",
        "bi: anchor and target embedded apart, cosine score (needs --text seed or cpc; best at "
        "small CPU budgets); cross: one encoder reads the pair (best on a GPU with the full data: "
        "0.709 vs 0.659 for MiniLM, see README)",
        choices=("cross", "bi"),
    )
    pool: str = opt(
        "cls",
        "cross-encoder pooling: first token, mean over real tokens, or learned attention",
        choices=("cls", "mean", "attention"),
    )
    loss: str = opt("mse", "mse on the score, or bce with logits (sigmoid at prediction)", choices=("mse", "bce"))
    head_lr: Optional[float] = opt(
        None, "learning rate of the head (default: 1e-2 for bi's scale and bias, --lr for cross)"
    )
    lr_decay: float = opt(1.0, "layer-wise LR decay: each layer below the top gets this times the LR above (1: off)")
    head_dropout: float = opt(0.1, "dropout on the pooled vector before the head (cross-encoder)")
    epochs: float = opt(4, "training epochs per fold")
    lr: Optional[float] = opt(None, "peak learning rate (default: 2e-4 for --arch bi, the lesson's 8e-5 for cross)")
    bs: int = opt(128, "train batch size (eval uses twice this)")
    wd: float = opt(0.01, "weight decay")
    warmup: float = opt(0.1, "warmup as a fraction of all steps")
    max_steps: int = opt(-1, "stop each fold after this many steps (smoke tests); -1: use --epochs")
    max_rows: Optional[int] = opt(None, "train on about this many rows (whole anchors)")
    date_col: str = opt("date", "date column for --split time")
    gap: int = opt(0, "dates left out between train and validation for --split time")
    seed: int = opt(42, "random seed for folds, sampling and training")
    compile: bool = opt(False, "torch.compile the model for training (GPU; see the README's Performance section)")
    report_to: str = opt("none", "log each fold to a tracker (run <name>/fold<k>)", choices=REPORT_TO)
    name: Optional[str] = opt(
        None, "experiment name: outputs/<name>/ (default: model-arch-text-split<folds>[-<hash of other settings>])"
    )
    fold: Optional[int] = opt(None, "train only this fold (e.g. one Kaggle kernel per fold)")
    overwrite: bool = opt(False, "delete outputs/<name>/ and its submission and start over")

    def __post_init__(self):
        from .heads import check_head_options

        check_head_options(self)
        if self.lr is None:  # measured best at the CPU budget for the bi-encoder (README); the seed's for cross
            self.lr = DEFAULT_LR[self.arch]


def settings(cfg):
    "The settings of `cfg` as a plain dict (what `experiment.json` records)."
    return asdict(cfg)


# Settings already spelled out in a default experiment name (or not changing results).
_IN_NAME = ("model", "arch", "text", "split", "folds", *IGNORED_ON_RESUME)


def exp_name(cfg):
    "`cfg.name`, or model-text-split<folds>, plus a short hash of any other setting that differs from its default."
    if cfg.name:
        return cfg.name
    from .model import model_label

    base = f"{model_label(cfg.model)}-{cfg.arch}-{cfg.text}-{cfg.split}{cfg.folds}"
    defaults = settings(PatentsConfig(data=cfg.data, arch=cfg.arch))  # e.g. the LR default depends on --arch
    changed = {k: v for k, v in settings(cfg).items() if k not in _IN_NAME and v != defaults.get(k)}
    if not changed:
        return base
    return f"{base}-{hashlib.sha1(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:6]}"
