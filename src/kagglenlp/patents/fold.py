"""One fold folder, `outputs/<EXP>/fold<k>/`: train fold `k` and save what inference and CV need.

A fold folder holds the model and tokenizer (`save_pretrained`), `input_format.json` (how its inputs are built),
`oof.csv` (`id, fold, pred, score`), `test_preds.csv`, `log_history.json`, and `done.json`, written last: a folder
without it is an interrupted fold, retrained on resume and never used by `patents predict`. `done.json` names the
experiment and its `split_id` (a hash of the fold assignment), so folds from different splits are never averaged.
"""

import shutil
import tempfile
import time

import pandas as pd

from .. import dist
from ..experiment import read_json, write_csv, write_json
from .metrics import clip01, pearson

__all__ = ["FORMAT_FILE", "DONE_FILE", "fold_dir", "fold_done", "read_done", "train_fold"]

FORMAT_FILE = "input_format.json"
DONE_FILE = "done.json"


def fold_dir(out, k):
    "Folder of fold `k` in experiment folder `out`."
    return out / f"fold{k}"


def fold_done(out, k):
    "True when fold `k` of experiment folder `out` finished."
    return (fold_dir(out, k) / DONE_FILE).exists()


def read_done(fd):
    "The `done.json` of fold folder `fd`."
    return read_json(fd / DONE_FILE)


def train_fold(cfg, out, k, trn, tst, ds, tst_ds, tok, fmt, split_id, exp_name):
    """Train fold `k` of `trn` (rows with `fold == k` validate, `train_mask` picks the training rows), predict the
    test rows `tst`, and save everything into `out/fold<k>`; returns the fold's `done.json` dict. `ds`/`tst_ds`:
    the cross-encoder's inputs tokenized once for all folds (None for the bi-encoder)."""
    from transformers import set_seed

    from ..tracking import tracking_run
    from .config import settings
    from .folds import train_mask
    from .heads import build_model, fit_fold, head_format, save_fold_model
    from .train import training_arguments

    fd = fold_dir(out, k)
    main = dist.is_main()  # under torchrun every rank trains; rank 0 alone writes
    if main:
        if fd.exists():
            shutil.rmtree(fd)  # an unfinished fold from an interrupted run
        fd.mkdir(parents=True)
    t0 = time.time()
    m_trn, m_val = train_mask(trn, k, cfg.split, cfg.date_col, cfg.gap), (trn["fold"] == k).values
    set_seed(cfg.seed)
    model = build_model(cfg)
    fmt = {**fmt, **head_format(cfg)}
    out_dir = fd / "trainer" if main else tempfile.mkdtemp(prefix=f"rank{dist.rank()}-")
    args = training_arguments(cfg, out_dir, run_name=f"{exp_name}/fold{k}")
    with tracking_run(cfg.report_to, args.run_name, settings(cfg)):  # a run per fold when --report-to names one
        trainer, oof, tpred, log = fit_fold(cfg, model, tok, trn, tst, m_trn, m_val, ds, tst_ds, fmt, args)
    if main:
        save_fold_model(trainer.model, tok, fd)  # backbone + tokenizer (save_pretrained) + head.safetensors
    else:
        shutil.rmtree(args.output_dir, ignore_errors=True)
        return None
    shutil.rmtree(fd / "trainer", ignore_errors=True)
    write_json(fmt, fd / FORMAT_FILE)
    val = trn[m_val]
    write_csv(
        pd.DataFrame({"id": val["id"].values, "fold": k, "pred": oof, "score": val["score"].values}), fd / "oof.csv"
    )
    write_csv(pd.DataFrame({"id": tst["id"].values, "pred": tpred}), fd / "test_preds.csv")
    write_json(log, fd / "log_history.json")
    r = pearson(clip01(oof), val["score"])
    done = {
        "experiment": exp_name,
        "fold": k,
        "n_folds": int(trn["fold"].max()) + 1,
        "split_id": split_id,
        "pearson": r,
        "seconds": round(time.time() - t0, 1),
        "n_train": int(m_trn.sum()),
        "n_valid": int(m_val.sum()),
    }
    write_json(done, fd / DONE_FILE)
    print(f"fold {k}: pearson {r:.4f} ({time.time() - t0:.0f}s)")
    return done
