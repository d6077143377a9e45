"""Compare the patents recipes (zero-shot, heads, bi-encoder, input formats, blends) on the real USPPPM rows.

Every recipe runs on the same anchor-grouped folds of the same rows (`--rows` rows taken as whole anchors, `--folds`
folds, seed 42) with MiniLM-L6 (`minilm`, offline), `--epochs` epochs at batch size `--bs`, every option not named in
the recipe at its default. Each run is a normal experiment (`outputs/<prefix>-<recipe>/`, a row in
`outputs/results.csv`; a rerun resumes it), so the table is copied from what the CLI itself wrote. Prints the
table of `docs/results/` and writes it as JSON and CSV (`--out`, default `outputs/<prefix>-recipes.{json,csv}`).

    python scripts/compare_recipes.py [--data ../shared/data] [--rows 4000] [--epochs 1] [--only zeroshot,bi-cpc]
    python scripts/compare_recipes.py --rows 8000 --epochs 2 --only zeroshot,default,cross-cls-seed   # longer budget

The recipes live in `configs/compare/recipes.toml` (table `compare`; `benchmarks/gpu.sh` runs table `toolbox`).
"""

import argparse
import json
import time

import pandas as pd
import tomllib

from kagglenlp import paths
from kagglenlp.files import read_json, write_csv, write_json
from kagglenlp.patents.blend import BlendOptions, run_blend
from kagglenlp.patents.config import CONFIG_DIR, PatentsConfig
from kagglenlp.patents.run import run_experiment
from kagglenlp.patents.zeroshot import ZeroShotConfig, run_zeroshot

RECIPE_FILE = CONFIG_DIR / "compare" / "recipes.toml"  # the one home of the compared recipes (gpu.sh reads it too)


def load_recipes(section="compare"):
    "`{recipe name: settings}` of table `section` of `RECIPE_FILE`, in file order."
    with open(RECIPE_FILE, "rb") as f:
        return tomllib.load(f)[section]


def cli_flags(settings):
    "The `kagglenlp patents train` flags of a recipe's `settings` (`True` -> a bare flag, `False` -> left out)."
    out = []
    for k, v in settings.items():
        flag = "--" + k.replace("_", "-")
        out += [flag] if v is True else [] if v is False else [flag, str(v)]
    return out


RECIPES = load_recipes()


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
    p.add_argument("--flags", default=None, help="print 'name<TAB>flags' of a table (gpu.sh)")
    a = p.parse_args(argv)
    if a.flags:
        for name, settings in load_recipes(a.flags).items():
            print(f"{name}\t{' '.join(cli_flags(settings))}")
        return
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
