"""Inference from saved fold models (no training, no network): find the finished folds, predict, average.

`storage.find_fold_dirs` accepts experiment folders, fold folders, or (on Kaggle) fold kernels' outputs, and
refuses what would silently give a wrong submission (folds of more than one experiment, split, set of settings or
training data, or an experiment with folds missing). Each fold's recipe is looked up once from its
`input_format.json` (`models.recipe_for`); the fold-averaged, clipped submission is `results.make_submission`.
"""

from pathlib import Path

import pandas as pd

from .models import recipe_for
from .storage import find_fold_dirs, read_format

__all__ = ["find_fold_dirs", "fold_format", "fold_steps", "predict_fold", "predict_folds"]


def fold_format(fold_dir, df):
    """The input format fold `fold_dir`'s model was trained with; `UserError` when `df` has a context it cannot
    title (saying to retrain with a titles file that covers it)."""
    from .inputs import TITLED, context_titles

    fmt = read_format(fold_dir)
    if fmt["text"] in TITLED:
        n = len(fmt.get("titles") or {})
        trained = f"the {n} CPC titles it was trained with" if n else "the built-in CPC section titles"
        fix = "retrain with a --titles file that covers these test contexts"
        context_titles(df["context"], fmt.get("titles"), f"{trained} (model {fold_dir})", fix=fix)
    return fmt


def fold_steps(fold_dir, fmt, trust_steps=False):
    """`fmt` with `step_fn`, the input function of the notebook step fold `fold_dir` was trained with (`steps.py`);
    `UserError` naming the step or recipe when it is neither defined here (same source) nor trusted."""
    from .models import REGISTRY
    from .steps import check_recipe, resolve_step

    check_recipe(fmt, REGISTRY.get(fmt.get("arch")), f"the fold model {fold_dir}")
    if "step" not in fmt:
        return fmt
    return {**fmt, "step_fn": resolve_step(fmt["step"], trust_steps, f"the fold model {fold_dir}")}


def predict_fold(fold_dir, df, bs=256, trust_steps=False):
    """Predictions (score scale) of the model saved in `fold_dir` for the rows of `df`, by the recipe (and input
    step) that trained it; `trust_steps`: run a notebook's input step from the source saved with the model."""
    fmt = fold_steps(fold_dir, fold_format(fold_dir, df), trust_steps)
    return recipe_for(fmt, str(fold_dir)).predict(Path(fold_dir), fmt, df, bs)


def predict_folds(fold_dirs, df, bs=256, trust_steps=False):
    "A frame of `id` and one prediction column per fold folder (named by its path's last two parts)."
    from tqdm.auto import tqdm

    for d in fold_dirs:  # every fold's step checked before the first prediction
        fold_steps(d, read_format(d), trust_steps)
    out = pd.DataFrame({"id": df["id"].values})
    for d in tqdm(fold_dirs, desc="fold models"):
        out["/".join(Path(d).parts[-2:])] = predict_fold(d, df, bs, trust_steps)
    return out
