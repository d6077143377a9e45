"""Train one fold, `outputs/<EXP>/fold<k>/`, through the config's recipe, and save what inference and CV need.

The recipe (`cfg.recipe`, looked up once) builds, fits and saves the model; this module writes the shared files
(see `storage.py`): `input_format.json`, `oof.csv`, `test_preds.csv`, `log_history.json`, and `done.json` last,
holding the experiment, its `split_id`, the settings the model depends on and the training data's fingerprint (with
`--evals-per-epoch`, also `best_step` and `best_pearson`: the checkpoint the predictions come from). `--full`:
`full_fit_steps(best_steps)` is the optimizer-step count of the all-rows model (the folds' mean best step,
optionally scaled); `with_full(fold_preds, full_pred, weight)` averages the folds' test predictions with it at
`weight` times one fold's (1st place: 5 folds + the full model at weight 2).
"""

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import dist
from ..errors import require
from ..files import saving, write_csv, write_json
from .metric import clip01, pearson
from .storage import fold_dir, read_done, write_done, write_format

__all__ = ["FoldData", "train_fold", "train_full", "full_fit_steps", "with_full", "FULL_DIR"]

FULL_DIR = "full"  # the all-rows model of `--full`, beside the fold folders


@dataclass
class FoldData:
    "What every fold of one experiment shares, built once (`run.run_experiment`): rows, tokenizer, inputs, record."

    trn: pd.DataFrame  # the training rows with their `fold` column (-1: never validated)
    tst: pd.DataFrame  # the test rows every fold predicts
    tok: object  # the backbone's tokenizer
    inputs: dict  # `cfg.recipe.prepare(...)`: the recipe's inputs for every fold, its format in `inputs["fmt"]`
    meta: dict  # what `done.json` records besides a fold's numbers: experiment, split_id, settings, data


def train_fold(cfg, out, k, data):
    """Train fold `k` of `data.trn` (rows with `fold == k` validate, `folds.train_mask` picks the training rows),
    predict the test rows `data.tst`, and save everything into `out/fold<k>`; returns the fold's `done.json` dict
    (`data`: a `FoldData`)."""
    from transformers import set_seed

    from ..tracking import tracking_run
    from .config import settings
    from .folds import train_mask
    from .trainer import training_arguments
    from .tricks.best import best_eval

    trn, tst, tok, inputs, meta = data.trn, data.tst, data.tok, data.inputs, data.meta
    recipe, fmt = cfg.recipe, inputs["fmt"]
    fd = fold_dir(out, k)
    main = dist.is_main()  # under torchrun every rank trains; rank 0 alone writes
    if main:
        if fd.exists():
            shutil.rmtree(fd)  # an unfinished fold from an interrupted run
        fd.mkdir(parents=True)
    t0 = time.time()
    m_trn, m_val = train_mask(trn, k, cfg.split, cfg.date_col, cfg.gap), (trn["fold"] == k).values
    set_seed(cfg.seed)
    model = recipe.build(cfg)
    out_dir = fd / "trainer" if main else tempfile.mkdtemp(prefix=f"rank{dist.rank()}-")
    args = training_arguments(cfg, out_dir, int(m_trn.sum()), run_name=f"{meta['experiment']}/fold{k}")
    with tracking_run(cfg.report_to, args.run_name, settings(cfg)):  # a run per fold when --report-to names one
        model, oof, tpred, log = recipe.fit(cfg, model, tok, inputs, m_trn, m_val, args)
    if not main:
        shutil.rmtree(args.output_dir, ignore_errors=True)
        return None
    val = trn[m_val]
    r = pearson(clip01(oof), val["score"])
    require(
        r == r,
        f"fold {k}'s predictions are constant, so its Pearson is undefined: the model learnt nothing (try more "
        "--epochs or --max-steps, a larger --max-len or another --lr); the fold is not saved",
    )
    with saving(fd):  # a recipe's own save failing on a full disk is one error (no done.json: retrained on resume)
        recipe.save(model, tok, fd)
    shutil.rmtree(fd / "trainer", ignore_errors=True)
    write_format(fmt, fd)
    write_csv(
        pd.DataFrame({"id": val["id"].values, "fold": k, "pred": oof, "score": val["score"].values}),
        fd / "oof.csv",
    )
    write_csv(pd.DataFrame({"id": tst["id"].values, "pred": tpred}), fd / "test_preds.csv")
    write_json(log, fd / "log_history.json")
    done = {
        "experiment": meta["experiment"],
        "fold": k,
        "n_folds": int(trn["fold"].max()) + 1,
        "split_id": meta["split_id"],
        "pearson": r,
        "seconds": round(time.time() - t0, 1),
        "n_train": int(m_trn.sum()),
        "n_valid": int(m_val.sum()),
        "settings": meta["settings"],
        "data": meta["data"],
    }
    if cfg.evals_per_epoch:  # the predictions are the best evaluation's (tricks.best)
        done["best_step"], done["best_pearson"] = best_eval(log)
    write_done(done, fd)
    print(f"fold {k}: pearson {r:.4f} ({time.time() - t0:.0f}s)")
    return done


def train_full(cfg, out, folds, data):
    """`--full`: one model on every training row of `data.trn` (a `FoldData`) for the mean best step count of
    the finished `folds` (`full_fit_steps`), saved with its test predictions in `out/full/`; returns its
    `done.json`."""
    from dataclasses import replace

    from transformers import set_seed

    from .trainer import training_arguments

    trn, tst, tok, inputs, meta = data.trn, data.tst, data.tok, data.inputs, data.meta
    steps = full_fit_steps([read_done(fold_dir(out, k)).get("best_step") for k in folds])
    fcfg = replace(
        cfg, max_steps=steps, evals_per_epoch=0, full=False
    )  # no validation rows: a fixed budget, no evaluation
    fd, t0 = Path(out) / FULL_DIR, time.time()
    if fd.exists():
        shutil.rmtree(fd)
    fd.mkdir(parents=True)
    set_seed(cfg.seed)
    m_trn, m_val = np.ones(len(trn), dtype=bool), np.zeros(len(trn), dtype=bool)
    args = training_arguments(fcfg, fd / "trainer", len(trn), run_name=f"{meta['experiment']}/full")
    model, _, tpred, log = fcfg.recipe.fit(fcfg, fcfg.recipe.build(fcfg), tok, inputs, m_trn, m_val, args)
    cfg.recipe.save(model, tok, fd)
    shutil.rmtree(fd / "trainer", ignore_errors=True)
    write_format(inputs["fmt"], fd)
    write_csv(pd.DataFrame({"id": tst["id"].values, "pred": tpred}), fd / "test_preds.csv")
    write_json(log, fd / "log_history.json")
    done = {
        "experiment": meta["experiment"],
        "full": True,
        "steps": steps,
        "split_id": meta["split_id"],
        "seconds": round(time.time() - t0, 1),
        "n_train": len(trn),
        "settings": meta["settings"],
        "data": meta["data"],
    }
    write_done(done, fd)
    print(f"full model: {len(trn)} rows, {steps} steps (the folds' mean best step) ({time.time() - t0:.0f}s)")
    return done


def full_fit_steps(best_steps, scale=1.0):
    "Optimizer steps for the all-rows model: the mean of the folds' `best_steps`, times `scale` (e.g. rows ratio)."
    steps = [s for s in best_steps if s is not None]
    require(steps, "--full needs the folds' best steps (train the folds with --evals-per-epoch first)")
    return max(1, round(float(np.mean(steps)) * scale))


def with_full(fold_preds, full_pred, weight=1.0):
    "Mean of the columns of `fold_preds` (rows x folds, weight 1 each) and `full_pred` at `weight` (>= 0)."
    fp = np.asarray(fold_preds, dtype=float).reshape(len(full_pred), -1)
    require(weight >= 0, f"--full-weight must be >= 0, got {weight}")
    return (fp.sum(1) + weight * np.asarray(full_pred, dtype=float)) / (fp.shape[1] + weight)
