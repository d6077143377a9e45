"""Compare the patents recipes (zero-shot, heads, bi-encoder, input formats, blends) on the real USPPPM rows.

Every recipe runs on the same anchor-grouped folds of the same rows (`--rows` rows taken as whole anchors, `--folds`
folds, seed 42) with MiniLM-L6 (`minilm`, offline), `--epochs` epochs at batch size `--bs`, every option not named in
the recipe at its default. Each run is a normal experiment (`outputs/<prefix>-<recipe>/`, a row in
`outputs/results.csv`; a rerun resumes it), so the table is copied from what the CLI itself wrote. Prints the
table of `docs/results/` and writes it as JSON and CSV (`--out`, default `outputs/<prefix>-recipes.{json,csv}`).

    python scripts/compare_recipes.py [--data ../shared/data] [--rows 4000] [--epochs 1] [--only zeroshot,bi-cpc]
    python scripts/compare_recipes.py --rows 8000 --epochs 2 --only zeroshot,default,cross-cls-seed   # longer budget
"""

import argparse
import json
import time

import pandas as pd

from kagglenlp import paths
from kagglenlp.experiment import read_json, write_csv, write_json
from kagglenlp.patents.blend import BlendOptions, run_blend
from kagglenlp.patents.config import PatentsConfig
from kagglenlp.patents.run import run_experiment
from kagglenlp.patents.zeroshot import ZeroShotConfig, run_zeroshot

CROSS = {"arch": "cross", "pool": "cls", "text": "seed"}  # the lesson's cross-encoder: the toolbox's baseline

TB_MEMBERS = [  # every toolbox row above the zero-shot floor, the floor itself and the bi-encoder
    *("zeroshot", "default", "cross-cls-seed", "tb-evals4", "tb-pearson", "tb-headlr1e-3", "tb-lstm", "tb-msd5"),
    *("tb-fgm", "tb-awp-eps1e-3", "tb-sib8", "tb-sib8-shuffle-tta4"),
]

# recipe name -> PatentsConfig overrides ("zeroshot" runs the baseline; "blend:" blends earlier recipes)
RECIPES = {
    "zeroshot": {"zeroshot": True},
    "zeroshot-cpc": {"zeroshot": True, "text": "cpc"},
    "cross-cls-seed": {"arch": "cross", "pool": "cls", "text": "seed"},
    "cross-cls-pair": {"arch": "cross", "pool": "cls", "text": "pair"},  # the lesson's content, no labels: shorter
    "cross-mean-cpc": {"arch": "cross", "pool": "mean", "text": "cpc"},
    "cross-attention-cpc": {"arch": "cross", "pool": "attention", "text": "cpc"},
    "cross-mean-cpc-headlr": {"arch": "cross", "pool": "mean", "text": "cpc", "head_lr": 1e-3},
    "cross-mean-cpc-llrd": {"arch": "cross", "pool": "mean", "text": "cpc", "lr_decay": 0.8},
    "cross-mean-cpc-bce": {"arch": "cross", "pool": "mean", "text": "cpc", "loss": "bce"},
    "bi-cpc-headlr8e-5": {"arch": "bi", "text": "cpc", "lr": 8e-5, "head_lr": 8e-5},
    "bi-cpc-bce": {"arch": "bi", "text": "cpc", "loss": "bce", "lr": 8e-5, "head_lr": 1e-2},
    "bi-cpc-lr5e-4": {"arch": "bi", "text": "cpc", "lr": 5e-4, "head_lr": 1e-2},
    "bi-cpc-headlr": {"arch": "bi", "text": "cpc", "lr": 8e-5, "head_lr": 1e-2},
    "bi-seed-lr8e-5": {"arch": "bi", "text": "seed", "lr": 8e-5, "head_lr": 1e-2},  # the default before LR 2e-4
    "bi-seed-lr2e-4": {"arch": "bi", "text": "seed", "lr": 2e-4, "head_lr": 1e-2},
    "bi-cpc-lr2e-4": {"arch": "bi", "text": "cpc", "lr": 2e-4, "head_lr": 1e-2},
    "default": {},  # bi-encoder, bare phrases, LR 2e-4 (= bi-seed-lr2e-4)
    # the competition toolbox (issue 16), each option alone on top of `cross-cls-seed`, then combinations
    "tb-evals4": {**CROSS, "evals_per_epoch": 4},
    "tb-siblings": {**CROSS, "text": "cpc-siblings"},
    "tb-sib-shuffle-tta4": {**CROSS, "text": "cpc-siblings", "sib_shuffle": True, "tta": 4},
    # on 2 CPU cores the whole sibling lists (113 tokens a row on average, 5x the lesson's) ran ~8x slower: capped
    "tb-sib8": {**CROSS, "text": "cpc-siblings", "sib_cap": 8},
    "tb-sib8-shuffle-tta4": {**CROSS, "text": "cpc-siblings", "sib_cap": 8, "sib_shuffle": True, "tta": 4},
    "tb-fgm": {**CROSS, "adv": "fgm"},
    "tb-awp": {**CROSS, "adv": "awp", "adv_start": 1},
    "tb-awp-eps1e-3": {**CROSS, "adv": "awp", "adv_start": 1, "adv_eps": 1e-3},  # a tenth of the write-ups' bound
    "tb-ema0.99": {**CROSS, "ema": 0.99},  # 250 steps per fold: 0.999 would average over 4x the whole run
    "tb-msd5": {**CROSS, "msd": 5},
    "tb-lstm": {**CROSS, "pool": "lstm"},
    "tb-pearson": {**CROSS, "loss": "pearson"},
    "tb-headlr1e-3": {**CROSS, "head_lr": 1e-3},
    "tb-freeze-emb": {**CROSS, "freeze_embeddings": True},
    "tb-lr2e-5-headlr1e-3": {**CROSS, "lr": 2e-5, "head_lr": 1e-3},  # 1st place's LRs
    "blend:zeroshot+bi-seed-lr8e-5": {"blend": ["zeroshot", "bi-seed-lr8e-5"]},
    "blend:zeroshot+cross-mean-cpc": {"blend": ["zeroshot", "cross-mean-cpc"]},
    "blend:bi-cpc+cross-mean-cpc": {"blend": ["bi-cpc-headlr8e-5", "cross-mean-cpc"]},
    "blend:all": {"blend": ["zeroshot", "bi-cpc-headlr", "bi-seed-lr8e-5", "cross-cls-seed", "cross-mean-cpc"]},
    # the toolbox blends: the floor, the bi-encoder and the toolbox's cross-encoders (sibling inputs included)
    "blend:zeroshot+default+cross": {"blend": ["zeroshot", "default", "cross-cls-seed"]},  # the docs' 0.673 blend
    "blend:zeroshot+default+fgm": {"blend": ["zeroshot", "default", "tb-fgm"]},
    "blend:tb": {"blend": TB_MEMBERS},
    "blend:tb-minmax": {"blend": TB_MEMBERS, "scale": "minmax"},
    "blend:default+bi-cpc-lr2e-4+cross": {
        "blend": ["zeroshot", "default", "bi-cpc-lr2e-4", "cross-cls-seed", "cross-mean-cpc-bce"]
    },
}


def run_recipe(recipe, over, a, data, prefix):
    "Run one recipe; returns its table row."
    name = f"{prefix}-{recipe.replace(':', '-').replace('+', '-')}"
    common = dict(data=f"{data}/uspppm", model=a.model, folds=a.folds, max_rows=a.rows, name=name)
    t0 = time.time()
    if over.get("zeroshot"):
        cv = run_zeroshot(ZeroShotConfig(**common, text=over.get("text", "seed")))
    elif "blend" in over:
        members = [f"{prefix}-{m}" for m in over["blend"]]
        cv = run_blend(members, BlendOptions(name=name, method=a.method, scale=over.get("scale", "none")))
    else:
        extra = {k: v for k, v in over.items()}
        cv = run_experiment(PatentsConfig(**common, epochs=a.epochs, bs=a.bs, **extra))
    cv = cv or read_json(paths.exp_dir(name) / "cv.json")
    return {
        "recipe": recipe,
        "experiment": name,
        "pearson": round(cv["pearson"], 4),
        "folds": " / ".join(f"{v:.3f}" for v in cv["folds"].values()),
        "rows": a.rows,
        "n_folds": a.folds,
        "epochs": 0 if over.get("zeroshot") else a.epochs,
        "bs": a.bs,
        "fold_seconds": cv.get("seconds"),
        "wall_seconds": round(time.time() - t0, 1),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="shared data folder (default: KAGGLENLP_DATA or ../shared/data)")
    p.add_argument("--rows", type=int, default=4000)
    p.add_argument("--epochs", type=float, default=1)
    p.add_argument("--folds", type=int, default=2)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--model", default="minilm")
    p.add_argument("--method", default="nnls", help="blend method for the blend rows")
    p.add_argument("--only", default=None, help="comma-separated recipe names (default: all, in table order)")
    p.add_argument("--prefix", default=None, help="experiment name prefix (default: rc<rows>e<epochs>)")
    p.add_argument("--out", default=None, help="JSON/CSV path stem (default: outputs/<prefix>-recipes)")
    a = p.parse_args(argv)
    data = a.data or paths.shared_data()
    if data is None:
        p.error("shared data not found; pass --data")
    prefix = a.prefix or f"rc{a.rows}e{a.epochs:g}"
    names = a.only.split(",") if a.only else list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        p.error(f"unknown recipe(s) {unknown}; choose from {', '.join(RECIPES)}")
    stem = a.out or str(paths.outputs_dir() / f"{prefix}-recipes")
    old = {r["recipe"]: r for r in (json.loads(open(stem + ".json").read()) if a.only and _exists(stem) else [])}
    for n in names:
        old[n] = run_recipe(n, RECIPES[n], a, data, prefix)
        rows = [old[k] for k in RECIPES if k in old]
        write_json(rows, stem + ".json")
        write_csv(pd.DataFrame(rows), stem + ".csv")
    print(table(rows))


def _exists(stem):
    from pathlib import Path

    return Path(stem + ".json").exists()


def table(rows):
    "The markdown table of recipe rows (as in `docs/results/`)."
    out = [
        "| recipe | OOF Pearson | per fold | rows, folds, epochs, bs | fold seconds | wall seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| `{r['recipe']}` | {r['pearson']:.4f} | {r['folds']} | {r['rows']}, {r['n_folds']}, "
            f"{r['epochs']:g}, {r['bs']} | {r['fold_seconds']} | {r['wall_seconds']} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    main()
