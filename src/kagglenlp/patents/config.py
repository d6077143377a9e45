"""The patents experiment's arguments: each hyperparameter stated once, with its help text (run_glue style)."""
from dataclasses import asdict, dataclass, field
from typing import Optional

from .folds import SPLITS
from .text import FORMATS

__all__ = ["TrainConfig", "DEFAULT_MODEL", "DEFAULT_TEXT", "exp_name", "RESUME_KEYS"]

DEFAULT_MODEL = "microsoft/deberta-v3-small"
DEFAULT_TEXT = "seed"  # measured best of FORMATS at the CPU budget: scripts/compare_text_formats.py, README


@dataclass
class TrainConfig:
    data: str = field(metadata={"help": "folder with train.csv, test.csv, sample_submission.csv"})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "hub name, local folder, or alias 'minilm' (offline MiniLM-L6)"})
    folds: int = field(default=5, metadata={"help": "number of CV folds"})
    split: str = field(default="group", metadata={"help": "fold splitter", "choices": SPLITS})
    text: str = field(default=DEFAULT_TEXT, metadata={"help": "input format", "choices": FORMATS})
    titles: Optional[str] = field(default=None, metadata={"help": "JSON file of CPC code -> title (default: built-in section titles)"})
    sib_cap: Optional[int] = field(default=None, metadata={"help": "cap on sibling targets per row (cpc-siblings)"})
    max_len: int = field(default=256, metadata={"help": "truncate inputs to this many tokens"})
    epochs: float = field(default=4, metadata={"help": "training epochs per fold"})
    lr: float = field(default=8e-5, metadata={"help": "peak learning rate"})
    bs: int = field(default=128, metadata={"help": "train batch size (eval uses twice this)"})
    wd: float = field(default=0.01, metadata={"help": "weight decay"})
    warmup: float = field(default=0.1, metadata={"help": "warmup as a fraction of all steps"})
    max_steps: int = field(default=-1, metadata={"help": "stop each fold after this many steps (smoke tests); -1: use --epochs"})
    max_rows: Optional[int] = field(default=None, metadata={"help": "train on about this many rows (whole anchors)"})
    date_col: str = field(default="date", metadata={"help": "date column for --split time"})
    gap: int = field(default=0, metadata={"help": "dates left out between train and validation for --split time"})
    seed: int = field(default=42, metadata={"help": "random seed for folds, sampling and training"})
    name: Optional[str] = field(default=None, metadata={"help": "experiment name: outputs/<name>/ (default: from model, text, split)"})
    fold: Optional[int] = field(default=None, metadata={"help": "train only this fold (e.g. one Kaggle kernel per fold)"})
    overwrite: bool = field(default=False, metadata={"help": "delete outputs/<name>/ and its submission and start over"})

    def to_dict(self): return asdict(self)


# Settings that change the result: a rerun must match them to resume instead of starting over.
RESUME_KEYS = ("data", "model", "folds", "split", "text", "titles", "sib_cap", "max_len", "epochs", "lr", "bs", "wd",
               "warmup", "max_steps", "max_rows", "date_col", "gap", "seed")


def exp_name(cfg):
    "`cfg.name`, or a name made of the model, text format, split and folds."
    from .model import model_label
    return cfg.name or f"{model_label(cfg.model)}-{cfg.text}-{cfg.split}{cfg.folds}"
