"""The zero-shot baseline as an experiment: cosine of the backbone's own mean-pooled embeddings, no training.

`kagglenlp patents zeroshot` scores every train row on the same folds as `patents train` (same data, `--folds`,
`--split`, `--seed`, `--max-rows` give the same `folds.csv`), so its OOF Pearson is the floor every trained recipe
must beat and it can be blended with them (`patents blend`). Outputs: `outputs/<EXP>/{experiment.json, folds.csv,
oof.csv, cv.json, test_preds.csv, oof.png}`, `submissions/<EXP>.csv` and a results row. Each distinct phrase is
embedded once.
"""

import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Optional

from .. import paths
from ..args import opt
from ..errors import require
from ..experiment import RESULT, check_experiment, open_experiment
from ..files import read_json
from .folds import SPLITS, check_n_folds
from .inputs import MIN_LEN

__all__ = ["ZeroShotConfig", "zeroshot_name", "run_zeroshot"]

IGNORED = ("name", "overwrite", "data", "titles", "bs")


@dataclass
class ZeroShotConfig:
    "Score the zero-shot baseline (cosine of mean-pooled embeddings) on the CV folds; write OOF, CV, a submission."

    data: str = opt(help="folder with train.csv, test.csv, sample_submission.csv")
    model: str = opt("minilm", "backbone whose embeddings are compared (a sentence-embedding model works best)")
    folds: int = opt(5, "number of CV folds (use the same as the experiments you compare or blend with)")
    split: str = opt("group", "fold splitter", choices=SPLITS)
    text: str = opt(
        "seed", "seed: the bare phrases; cpc: the CPC title appended to the anchor", choices=("seed", "cpc")
    )
    titles: Optional[str] = opt(None, "JSON file of CPC code -> title (default: built-in section titles)")
    sib_cap: Optional[int] = opt(None, "unused (kept so the folds match patents train)")
    max_len: int = opt(64, "truncate phrases to this many tokens")
    bs: int = opt(256, "embedding batch size")
    max_rows: Optional[int] = opt(None, "use about this many train rows (whole anchors), as patents train does")
    date_col: str = opt("date", "date column for --split time")
    gap: int = opt(0, "dates left out between train and validation for --split time")
    seed: int = opt(42, "random seed for folds and sampling")
    name: Optional[str] = opt(None, "experiment name (default: zeroshot-<model>-<text>-<split><folds>[-<hash>])")
    overwrite: bool = opt(False, "delete outputs/<name>/ and its submission and start over")

    def __post_init__(self):
        check_n_folds(self.folds)
        require(self.max_len >= MIN_LEN, f"--max-len must be at least {MIN_LEN} tokens, got {self.max_len}")
        require(self.bs > 0, f"--bs must be a positive number, got {self.bs}")
        require(self.max_rows is None or self.max_rows > 0, f"--max-rows must be positive, got {self.max_rows}")
        require(self.gap >= 0, f"--gap must be zero or positive, got {self.gap}")


def zeroshot_name(cfg):
    "`cfg.name`, or zeroshot-<model>-<text>-<split><folds> plus a short hash of other non-default settings."
    if cfg.name:
        return cfg.name
    from .config import default_name
    from .models.backbone import model_label

    base = f"zeroshot-{model_label(cfg.model)}-{cfg.text}-{cfg.split}{cfg.folds}"
    defaults = {f.name: f.default for f in fields(ZeroShotConfig)}
    return default_name(base, asdict(cfg), defaults, ("model", "text", "split", "folds", *IGNORED))


def run_zeroshot(cfg):
    "Run zero-shot experiment `cfg` (a `ZeroShotConfig`); returns its CV dict."
    import pandas as pd  # here, not at the top: `kagglenlp patents --help` stays free of pandas

    from .inputs import pair_texts
    from .models.backbone import check_backbone, load_backbone, model_label
    from .models.infer import phrase_cosines
    from .results import finish
    from .run import data_fingerprint, prepare_inputs
    from .storage import write_folds

    cfg = replace(cfg, data=str(Path(cfg.data).resolve()), titles=cfg.titles and str(Path(cfg.titles).resolve()))
    name = zeroshot_name(cfg)
    sub_path = paths.submissions_dir() / f"{name}.csv"
    trn, tst, sample, titles = prepare_inputs(cfg)
    record = (name, "patents", asdict(cfg), data_fingerprint(cfg), IGNORED, cfg.overwrite, [sub_path])
    check_experiment(*record)
    tok = check_backbone(cfg.model)
    with open_experiment(*record) as exp:
        out = exp.dir
        write_folds(out, trn)
        if all((out / f).exists() for f in ("cv.json", RESULT)) and sub_path.exists():
            cv = read_json(out / "cv.json")
            print(f"experiment {name}: resuming: all done\nCV Pearson {cv['pearson']:.4f}")
            return cv
        t0 = time.time()
        enc = load_backbone(cfg.model)
        val = trn[trn["fold"] >= 0].reset_index(drop=True)
        a, b = pair_texts(val, cfg.text, titles)
        oof = pd.DataFrame(
            {
                "id": val["id"].values,
                "fold": val["fold"].values,
                "pred": phrase_cosines(enc, tok, a, b, cfg.bs, cfg.max_len),
                "score": val["score"].values,
            }
        )
        ta, tb = pair_texts(tst, cfg.text, titles)
        tp = pd.DataFrame(
            {"id": tst["id"].values, "zeroshot": phrase_cosines(enc, tok, ta, tb, cfg.bs, cfg.max_len)},
        )
        row = dict(
            arch="zeroshot",
            model=model_label(cfg.model),
            text=cfg.text,
            split=cfg.split,
            folds=int(val["fold"].nunique()),
            rows=len(trn),
            epochs=0,
            max_len=cfg.max_len,
            processes=1,
        )
        cv = finish(exp, oof, tp, sample, sub_path, row, round(time.time() - t0, 1))
    per = {k: round(v, 4) for k, v in cv["folds"].items()}
    print(f"CV Pearson {cv['pearson']:.4f} per fold {per}\nsubmission: {sub_path}")
    return cv
