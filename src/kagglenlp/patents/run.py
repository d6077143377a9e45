"""A patents experiment end to end, on one process or on every visible GPU (behind `kagglenlp patents train` and
notebook 10).

`run_experiment(cfg)`: validate inputs and the backbone -> open the experiment (resume or refuse, lock) -> write
folds once -> prepare the recipe's inputs once -> train the missing folds (`fold.py`) -> combine them into OOF CV,
the submission and a results row (`results.py`). Outputs (keyed by experiment name):
`outputs/<EXP>/{experiment.json, folds.csv, fold<k>/, oof.csv, cv.json, test_preds.csv, oof.png, result.json}`,
`submissions/<EXP>.csv` and a row in `outputs/results.csv`; with `--full`, then `outputs/<EXP>/full/` (one model on
all rows, `fold.train_full`).

`train(cfg, gpus)`: the notebook's entry. A `Trainer` started inside a notebook on Kaggle's T4 x2 would run
`nn.DataParallel` in one process; `train` instead starts one process per GPU with accelerate's `notebook_launcher`,
which forks the notebook's own process: an input step, head or recipe defined in a cell (`steps.py`) is there in
every rank, as it is in process. Rank 0 alone writes the experiment (`dist.py`). CUDA must not be initialised in
the notebook before the launch (nothing here touches it: the GPUs are counted through NVML). On a machine without
GPUs, `gpus=2` runs two CPU processes (gloo): the same path, which the tests take. With one GPU or none it calls
`run_experiment`. The command line keeps `torchrun -m kagglenlp patents train ...` (docs/patents.md).
"""

import os
import socket
import tempfile
from dataclasses import replace
from pathlib import Path

from .. import dist, paths
from ..errors import UserError, require
from ..experiment import check_experiment, fingerprint, open_experiment
from ..files import read_json
from .config import IGNORED_ON_RESUME, exp_name, model_settings, settings
from .data import competition_files, load_competition
from .folds import add_folds
from .inputs import TITLED, context_titles, load_titles
from .results import combine_folds
from .storage import check_folds, finished_folds, fold_done, write_folds

__all__ = [
    "run_experiment",
    "train",
    "prepare_inputs",
    "split_id",
    "data_fingerprint",
    "visible_gpus",
    "free_port",
]

# torch's own switch: `torch.cuda.is_available()` asks NVML instead of initialising CUDA, so that a library calling
# it in the notebook (before the launch) does not leave the forked processes unable to use the GPUs.
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")


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
            shown = todo or f"none ({done})"
            print(f"experiment {name}: {len(trn)} train rows, {len(folds)} folds, to train: {shown}")
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


def visible_gpus():
    "Number of CUDA devices this process can see, counted without initialising CUDA (a later fork can use them)."
    import torch

    return torch.cuda.device_count()


def free_port():
    "A TCP port on 127.0.0.1 that nothing listens on now (the launch's rendezvous; two notebooks may run at once)."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _each_rank(cfg, errors):
    "One launched process: `run_experiment(cfg)`; a `UserError` is also left in folder `errors` for the notebook."
    try:
        run_experiment(cfg)
    except UserError as e:
        (Path(errors) / f"rank{os.environ.get('RANK', '0')}.txt").write_text(str(e))
        raise


def train(cfg, gpus=None):
    """Train experiment `cfg` on `gpus` processes (default: one per visible GPU); returns its CV dict, or None
    while folds are missing. Two or more fork this process (`notebook_launcher`): what the notebook defined is in
    each."""
    n = visible_gpus() if gpus is None else int(gpus)
    if n <= 1:
        return run_experiment(cfg)
    import torch
    from accelerate import notebook_launcher

    require(
        not torch.cuda.is_initialized(),
        f"CUDA is already in use in this notebook, so its {n} processes cannot be forked: restart the kernel and "
        "run the cells without moving anything to the GPU before this one (the model cells build it on the CPU)",
    )

    # An earlier in-process run in this kernel (a `gpus=1` training, `patents(...)`) leaves accelerate's state,
    # which `notebook_launcher` refuses. With CUDA untouched that state describes one CPU process only, and nothing
    # of it is needed by the forked ranks (each builds its own): drop it, as accelerate's own tests do.
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    with tempfile.TemporaryDirectory(prefix="kagglenlp-launch-") as errors:
        try:
            notebook_launcher(_each_rank, (cfg, errors), num_processes=n, use_port=str(free_port()))
        except Exception as e:
            msgs = sorted(Path(errors).glob("rank*.txt"))
            if msgs:  # the ranks' own error (the same on each: `dist.share`), as one line
                raise UserError(msgs[0].read_text()) from None
            raise UserError(f"training on {n} processes failed: {str(e).strip().splitlines()[0][:500]}") from e
    cv = paths.exp_dir(exp_name(cfg)) / "cv.json"
    return read_json(cv) if cv.exists() and cfg.fold is None else None
