"""A patents experiment end to end (the short orchestrator behind `kagglenlp patents train` and notebook 10).

validate inputs and the backbone -> open the experiment (resume or refuse, lock) -> write folds once -> train the
missing folds (`fold.py`) -> combine them into OOF CV and the submission (`combine.py`) -> a results row.
Outputs (keyed by experiment name): `outputs/<EXP>/{experiment.json, folds.csv, fold<k>/, oof.csv, cv.json,
test_preds.csv, oof.png}`, `submissions/<EXP>.csv` and a row in `outputs/results.csv`.
"""

from dataclasses import replace
from pathlib import Path

from .. import dist, paths
from ..errors import require
from ..experiment import check_experiment, fingerprint, open_experiment, write_csv
from .combine import combine_folds
from .config import IGNORED_ON_RESUME, exp_name, settings
from .data import competition_files, load_competition
from .fold import fold_done, train_fold
from .folds import add_folds
from .text import TITLED, context_titles, load_titles, make_inputs, model_sep

__all__ = ["run_experiment", "prepare_inputs", "split_id"]


def split_id(trn):
    "Short hash of the fold assignment (`id`, `fold`) of `trn`: equal only for the same split."
    return fingerprint(folds=trn[["id", "fold"]])["folds"][:12]


def prepare_inputs(cfg):
    "Validated `(train with folds, test, sample, titles)` for `cfg`: every bad-input check, nothing written."
    trn, tst, sample = load_competition(cfg.data, cfg.max_rows, cfg.seed)
    titles = load_titles(cfg.titles) if cfg.titles else None
    if cfg.text in TITLED:
        for df, f in ((trn, "train.csv"), (tst, "test.csv")):
            context_titles(df["context"], titles, f"--titles file (for {f})" if titles else "")
    trn = add_folds(trn, cfg.split, cfg.folds, cfg.seed, cfg.date_col, cfg.gap)
    return trn, tst, sample, titles


def _write_folds(out, trn):
    "Write `folds.csv` once (the split is data); an existing one must match."
    p = out / "folds.csv"
    cur = trn[["id", "anchor", "fold"]]
    if p.exists():
        import pandas as pd

        old = pd.read_csv(p, dtype={"id": str, "anchor": str})
        require(
            old["id"].tolist() == cur["id"].tolist() and old["fold"].tolist() == cur["fold"].tolist(),
            f"{p} no longer matches the data; pass --overwrite to start over",
        )
    else:
        write_csv(cur, p)


def run_experiment(cfg):
    """Run experiment `cfg` (a `PatentsConfig`); returns its CV dict, or None while folds are still missing (and on
    ranks other than 0 under `torchrun`/`accelerate launch`, where rank 0 alone writes)."""
    cfg = replace(cfg, data=str(Path(cfg.data).resolve()), titles=cfg.titles and str(Path(cfg.titles).resolve()))
    name = exp_name(cfg)
    sub_path = paths.submissions_dir() / f"{name}.csv"
    # Everything that can fail on bad input is checked before the first file is written.
    trn, tst, sample, titles = prepare_inputs(cfg)
    folds = sorted(int(k) for k in trn["fold"].unique() if k >= 0)
    require(cfg.fold is None or cfg.fold in folds, f"--fold {cfg.fold} is not one of the folds {folds}")
    data = fingerprint(**competition_files(cfg.data), **({"titles": Path(cfg.titles)} if cfg.titles else {}))
    record = (name, "patents", settings(cfg), data, IGNORED_ON_RESUME, cfg.overwrite, [sub_path])
    opened = []

    def start():
        "Rank 0: check, open (lock) and write the split; returns the folds to train."
        check_experiment(*record)  # a refused resume is answered before the model is loaded
        check_backbone(cfg.model)
        exp = open_experiment(*record)
        opened.append(exp)
        _write_folds(exp.dir, trn)
        return [k for k in ([cfg.fold] if cfg.fold is not None else folds) if not fold_done(exp.dir, k)]

    from .model import check_backbone, load_tokenizer

    try:
        todo = dist.share(start)
        out = paths.exp_dir(name)
        if dist.is_main():
            print(
                f"experiment {name}: {len(trn)} train rows, {len(folds)} folds, "
                f"to train: {todo or 'none (resuming: all done)'}"
            )
        if todo:
            tok = load_tokenizer(cfg.model)
            fmt = {"text": cfg.text, "titles": titles, "sib_cap": cfg.sib_cap, "max_len": cfg.max_len}
            ds = tst_ds = None  # the bi-encoder tokenizes its phrases itself
            if cfg.arch == "cross":  # tokenized once for every fold
                from .train import tokenize

                sep = model_sep(tok)
                ds = tokenize(
                    tok, make_inputs(trn, cfg.text, titles, sep, cfg.sib_cap), trn["score"], trn["id"], cfg.max_len
                )
                tst_ds = tokenize(tok, make_inputs(tst, cfg.text, titles, sep, cfg.sib_cap), max_len=cfg.max_len)
            for k in todo:
                train_fold(cfg, out, k, trn, tst, ds, tst_ds, tok, fmt, split_id(trn), name)
        if not dist.is_main():
            return None
        missing = [k for k in folds if not fold_done(out, k)]
        if missing:
            print(f"folds still missing: {missing}; the submission is written when all are done")
            return None
        first = not (out / "cv.json").exists()
        cv = combine_folds(out, folds, sample, sub_path)
        if todo or first:
            from .model import model_label

            opened[0].result(
                "pearson",
                round(cv["pearson"], 4),
                model=model_label(cfg.model),
                text=cfg.text,
                split=cfg.split,
                folds=len(folds),
                rows=len(trn),
                epochs=cfg.epochs,
                cv_folds=" ".join(f"{v:.4f}" for v in cv["folds"].values()),
                seconds=cv["seconds"],
                processes=dist.world_size(),
            )
    finally:
        for exp in opened:
            exp.close()
    per = {k: round(v, 4) for k, v in cv["folds"].items()}
    print(f"CV Pearson {cv['pearson']:.4f} per fold {per}\nsubmission: {sub_path}")
    return cv
