"""The zero-shot baseline as an experiment: cosine of the backbone's own mean-pooled embeddings, no training.

`kagglenlp patents zeroshot` scores every train row on the same folds as `patents train` (same data, `--folds`,
`--split`, `--seed`, `--max-rows` give the same `folds.csv`), so its OOF Pearson is the floor every trained recipe
must beat and it can be blended with them (`patents blend`). Outputs: `outputs/<EXP>/{experiment.json, folds.csv,
oof.csv, cv.json, test_preds.csv, oof.png}`, `submissions/<EXP>.csv` and a results row. Each distinct phrase is
embedded once.
"""

import hashlib
import json
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Optional

import pandas as pd

from .. import paths
from ..args import opt
from ..experiment import check_experiment, fingerprint, open_experiment, read_json, write_csv, write_json
from .folds import SPLITS

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


def zeroshot_name(cfg):
    "`cfg.name`, or zeroshot-<model>-<text>-<split><folds> plus a short hash of other non-default settings."
    if cfg.name:
        return cfg.name
    from .model import model_label

    base = f"zeroshot-{model_label(cfg.model)}-{cfg.text}-{cfg.split}{cfg.folds}"
    skip = ("model", "text", "split", "folds", *IGNORED)
    defaults = {f.name: f.default for f in fields(ZeroShotConfig)}
    changed = {k: v for k, v in asdict(cfg).items() if k not in skip and v != defaults.get(k)}
    if not changed:
        return base
    return f"{base}-{hashlib.sha1(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:6]}"


def run_zeroshot(cfg):
    "Run zero-shot experiment `cfg` (a `ZeroShotConfig`); returns its CV dict."
    from ..submission import write_submission
    from .combine import make_submission, plot_oof
    from .data import competition_files
    from .metrics import clip01, pearson
    from .run import _write_folds, prepare_inputs

    cfg = replace(cfg, data=str(Path(cfg.data).resolve()), titles=cfg.titles and str(Path(cfg.titles).resolve()))
    name = zeroshot_name(cfg)
    sub_path = paths.submissions_dir() / f"{name}.csv"
    trn, tst, sample, titles = prepare_inputs(cfg)
    data = fingerprint(**competition_files(cfg.data), **({"titles": Path(cfg.titles)} if cfg.titles else {}))
    record = (name, "patents", asdict(cfg), data, IGNORED, cfg.overwrite, [sub_path])
    check_experiment(*record)
    from .model import check_backbone

    tok = check_backbone(cfg.model)
    with open_experiment(*record) as exp:
        out = exp.dir
        _write_folds(out, trn)
        if (out / "cv.json").exists() and sub_path.exists():
            cv = read_json(out / "cv.json")
            print(f"experiment {name}: resuming: all done\nCV Pearson {cv['pearson']:.4f}")
            return cv
        from .biencoder import pair_texts, phrase_cosines
        from .heads import load_backbone

        t0 = time.time()
        enc = load_backbone(cfg.model)
        val = trn[trn["fold"] >= 0].reset_index(drop=True)
        a, b = pair_texts(val, cfg.text, titles)
        oof = pd.DataFrame(
            {
                "id": val["id"].values,
                "fold": val["fold"].values,
                "pred": clip01(phrase_cosines(enc, tok, a, b, cfg.bs, cfg.max_len)),
                "score": val["score"].values,
            }
        )
        ta, tb = pair_texts(tst, cfg.text, titles)
        tp = pd.DataFrame({"id": tst["id"].values, "zeroshot": phrase_cosines(enc, tok, ta, tb, cfg.bs, cfg.max_len)})
        per = {str(k): pearson(g["pred"], g["score"]) for k, g in oof.groupby("fold")}
        cv = {
            "pearson": pearson(oof["pred"], oof["score"]),
            "folds": per,
            "n_oof": len(oof),
            "seconds": round(time.time() - t0, 1),
        }
        write_csv(oof, out / "oof.csv")
        write_csv(tp, out / "test_preds.csv")
        write_json(cv, out / "cv.json")
        write_submission(make_submission(tp, sample), sub_path, sample, overwrite=True)
        plot_oof(oof, out / "oof.png", cv["pearson"])
        from .model import model_label

        exp.result(
            "pearson",
            round(cv["pearson"], 4),
            model=model_label(cfg.model),
            text=cfg.text,
            split=cfg.split,
            folds=len(per),
            rows=len(trn),
            epochs=0,
            arch="zeroshot",
            cv_folds=" ".join(f"{v:.4f}" for v in per.values()),
            seconds=cv["seconds"],
        )
    print(
        f"CV Pearson {cv['pearson']:.4f} per fold { {k: round(v, 4) for k, v in per.items()} }\nsubmission: {sub_path}"
    )
    return cv
