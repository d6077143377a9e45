"""A patents experiment end to end (the short orchestrator behind `kagglenlp patents train` and notebook 10).

validate inputs and the backbone -> open the experiment (resume or refuse, lock) -> write folds once -> prepare the
recipe's inputs once -> train the missing folds (`fold.py`) -> combine them into OOF CV, the submission and a
results row (`results.py`). Outputs (keyed by experiment name): `outputs/<EXP>/{experiment.json,
folds.csv, fold<k>/, oof.csv, cv.json, test_preds.csv, oof.png, result.json}`, `submissions/<EXP>.csv` and a row in
`outputs/results.csv`; with `--full`, then `outputs/<EXP>/full/` (one model on all rows, `fold.train_full`).
"""

from dataclasses import replace
from pathlib import Path

from .. import dist, paths
from ..errors import require
from ..experiment import check_experiment, fingerprint, open_experiment
from .config import IGNORED_ON_RESUME, exp_name, model_settings, settings
from .data import competition_files, load_competition
from .folds import add_folds
from .inputs import TITLED, context_titles, load_titles
from .results import combine_folds
from .storage import check_folds, finished_folds, fold_done, write_folds

__all__ = ["run_experiment", "prepare_inputs", "split_id", "data_fingerprint"]


def split_id(trn):
    "Short hash of the fold assignment (`id`, `fold`) of `trn`: equal only for the same split."
    return fingerprint(folds=trn[["id", "fold"]])["folds"][:12]


def data_fingerprint(cfg):
    "Fingerprint of `cfg`'s competition files (and titles file): what `experiment.json` records."
    return fingerprint(**competition_files(cfg.data), **({"titles": Path(cfg.titles)} if cfg.titles else {}))


def prepare_inputs(cfg):
    "Validated `(train with folds, test, sample, titles)` for `cfg`: every bad-input check, nothing written."
    trn, tst, sample = load_competition(cfg.data, cfg.max_rows, cfg.seed)
    titles = load_titles(cfg.titles) if cfg.titles else None
    if cfg.text in TITLED:
        for df, f in ((trn, "train.csv"), (tst, "test.csv")):
            context_titles(df["context"], titles, f"--titles file (for {f})" if titles else "")
    trn = add_folds(trn, cfg.split, cfg.folds, cfg.seed, cfg.date_col, cfg.gap)
    return trn, tst, sample, titles


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
    require(not cfg.full or dist.world_size() == 1, "--full trains in one process: run it without torchrun")
    data = data_fingerprint(cfg)
    record = (name, "patents", settings(cfg), data, IGNORED_ON_RESUME, cfg.overwrite, [sub_path])
    meta = {  # what each fold's done.json records besides its own numbers: finished folds must match it
        "experiment": name,
        "split_id": split_id(trn),
        "settings": model_settings(cfg),
        "data": {k: v for k, v in data.items() if k in ("train", "titles")},
    }
    opened = []

    def start():
        "Rank 0: check, open (lock) and write the split; returns the folds to train."
        check_experiment(*record)  # a refused resume is answered before the model is loaded
        if not cfg.overwrite:  # fold folders collected from other runs (one kernel per fold) must be this run's
            out = paths.exp_dir(name)
            check_folds(finished_folds(out, folds), out, meta)
        check_backbone(cfg.model)
        exp = open_experiment(*record)
        opened.append(exp)
        write_folds(exp.dir, trn)
        return [k for k in ([cfg.fold] if cfg.fold is not None else folds) if not fold_done(exp.dir, k)]

    from .fold import FoldData, train_fold, train_full
    from .models.backbone import check_backbone, load_tokenizer, model_label

    try:
        todo = dist.share(start)
        out = paths.exp_dir(name)
        if dist.is_main():
            done = f"resuming: fold {cfg.fold} done" if cfg.fold is not None else "resuming: all done"
            print(f"experiment {name}: {len(trn)} train rows, {len(folds)} folds, to train: {todo or f'none ({done})'}")
        prepared = []

        def prepare():
            "The rows, tokenizer and the recipe's inputs every fold (and the --full model) shares, built once."
            if not prepared:
                recipe, tok = cfg.recipe, load_tokenizer(cfg.model)
                inputs = recipe.prepare(cfg, tok, trn, tst, recipe.fold_format(cfg, titles))
                prepared.append(FoldData(trn, tst, tok, inputs, meta))
            return prepared[0]

        if todo:
            shared = prepare()
            for k in todo:
                train_fold(cfg, out, k, shared)
        if not dist.is_main():
            return None
        missing = [k for k in folds if not fold_done(out, k)]
        if missing:
            print(f"folds still missing: {missing}; the submission is written when all are done")
            return None
        row = dict(
            arch=cfg.arch,
            model=model_label(cfg.model),
            text=cfg.text,
            split=cfg.split,
            folds=len(folds),
            rows=len(trn),
            epochs=cfg.epochs,
            lr=cfg.eff_lr,
            head_lr=cfg.eff_head_lr,
            max_len=cfg.max_len,
            processes=dist.world_size(),
        )
        cv = combine_folds(opened[0], folds, sample, sub_path, row)
        if cfg.full and not (out / "full" / "done.json").exists():  # the folds first: it needs their best steps
            train_full(cfg, out, folds, prepare())
    finally:
        for exp in opened:
            exp.close()
    per = {k: round(v, 4) for k, v in cv["folds"].items()}
    print(f"CV Pearson {cv['pearson']:.4f} per fold {per}\nsubmission: {sub_path}")
    return cv
