"""The recipe interface: one architecture = one `Recipe` subclass, registered by name (`--arch NAME`).

A recipe knows how to check its settings, prepare inputs once for all folds, build a fresh model, fit it on one
fold, save and load it, and predict with a saved fold. Everything else (folds, fold folders, CV, submissions,
results) is shared and knows no recipe: `fold.train_fold` and `predict.predict_fold` look the recipe up once,
from the config (`cfg.recipe`) or from a fold's saved `input_format.json` (`recipe_for(fmt)`).

Adding one: subclass `Recipe`, set `name` (and its default LRs), implement the methods, decorate the class with
`@register`; see docs/architecture.md.
"""

import numpy as np

from ...errors import require

__all__ = ["Recipe", "REGISTRY", "register", "get_recipe", "recipe_for", "POOLS", "LOSSES", "postprocess"]

REGISTRY = {}  # name -> Recipe instance; the `--arch` choices (argparse reads it live)
POOLS = ("cls", "mean", "attention", "lstm")  # `--pool`: `models/heads.py` pool_states
LOSSES = ("mse", "bce", "pearson")  # `--loss`: `models/heads.py` pair_loss
SIGMOID_LOSSES = ("bce", "pearson")  # losses whose raw outputs get a sigmoid at prediction


def postprocess(fmt, raw):
    """Predictions in the score's scale from a fold model's raw outputs: a sigmoid after `bce` or `pearson` (the
    Pearson loss fixes no scale, so its outputs are squashed into (0, 1) before the submission's clipping)."""
    raw = np.asarray(raw, dtype=float).reshape(-1)
    return 1 / (1 + np.exp(-raw)) if fmt.get("loss") in SIGMOID_LOSSES else raw


class Recipe:
    "One architecture: check, prepare, build, fit, save, load, predict. Subclass it and `@register` the subclass."

    name = ""  # the registry key, `--arch NAME`, recorded as `arch` in every fold's input_format.json
    texts = None  # the `--text` formats it can read (None: all of text.FORMATS)
    default_lr = 1e-4  # `--lr` when not given
    default_head_lr = None  # `--head-lr` when not given (None: the same as the LR)

    def check(self, cfg):
        "Raise `UserError` for settings of `cfg` this recipe cannot train (called when the config is built)."
        if self.texts is not None:
            require(
                cfg.text in self.texts,
                f"--arch {self.name} reads --text {' or '.join(self.texts)}, not {cfg.text!r}",
            )

    def fold_format(self, cfg, titles):
        "What a fold folder records (`input_format.json`) so that `load` and `predict` rebuild inputs and model."
        from ..steps import recipe_record, step_record

        fmt = dict(text=cfg.text, titles=titles, sib_cap=cfg.sib_cap, max_len=cfg.max_len, arch=self.name)
        own = {"step": step_record(cfg.text), "recipe": recipe_record(self)}  # steps defined in a notebook cell
        return {**fmt, **{k: v for k, v in own.items() if v is not None}}

    def input_strings(self, cfg, tok, df, titles):
        """The strings the model reads for the rows of `df`, a frame with one column per input (notebook 10 prints
        them): by default one string per row, `--text` or a notebook's input step."""
        import pandas as pd

        from ..inputs import model_sep
        from ..steps import make_texts

        texts = make_texts(df, self.fold_format(cfg, titles), model_sep(tok))
        return pd.DataFrame({"input": texts}, index=df.index)

    def prepare(self, cfg, tok, trn, tst, fmt):
        "The inputs of every fold, built once (e.g. `trn` and `tst` tokenized); passed to `fit` as `inputs`."
        raise NotImplementedError

    def build(self, cfg):
        "A fresh, untrained fold model for `cfg`."
        raise NotImplementedError

    def fit(self, cfg, model, tok, inputs, m_trn, m_val, args):
        """Train `model` on the train rows where `m_trn` is true (HF `TrainingArguments` `args`); returns
        `(trained model, oof, test_preds, log_history)`: predictions in the score's scale for the rows `m_val`
        and for every test row."""
        raise NotImplementedError

    def trainer(self, cfg, model, tok, inputs, m_trn, m_val, args):
        "Optional: the HF `Trainer` that `fit` runs (benchmarks time its `train()`); None for recipes without one."
        return None

    def save(self, model, tok, fd):
        "Save trained `model` and tokenizer `tok` into fold folder `fd` (what `load` reads back)."
        raise NotImplementedError

    def load(self, fd, fmt):
        "The model saved in fold folder `fd` (with input format `fmt`), in eval mode."
        raise NotImplementedError

    def predict(self, fd, fmt, df, bs):
        """Predictions in the score's scale of the model saved in fold folder `fd` for the rows of `df`, `bs` a
        batch."""
        raise NotImplementedError


def register(cls):
    "Class decorator: register an instance of `Recipe` subclass `cls` under `cls.name`; returns `cls`."
    require(cls.name and cls.name not in REGISTRY, f"recipe name {cls.name!r} is empty or taken")
    REGISTRY[cls.name] = cls()
    return cls


def get_recipe(name):
    "The registered recipe `name`, or `UserError` listing the known ones."
    require(name in REGISTRY, f"unknown --arch {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


def recipe_for(fmt, where="a fold folder"):
    "The recipe that trained a fold with input format `fmt`; `UserError` for folders of older versions (no arch)."
    require("arch" in fmt, f"{where} was saved by an older kagglenlp (no arch in input_format.json): retrain it")
    return get_recipe(fmt["arch"])
