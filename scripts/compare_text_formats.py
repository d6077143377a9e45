"""Compare the input formats (`seed`, `pair`, `cpc`, `cpc-siblings`) on the real USPPPM data at one CPU budget.

MiniLM (offline, from PyPI), ~3,000 rows (whole anchors), 2 anchor-grouped folds, 1 epoch, batch size 16,
the seed's recipe otherwise; CPC titles from `cpc_texts.json`. Each run is a normal experiment
(`outputs/cmp-<format>/`, a row in
`outputs/results.csv`); the table printed at the end is what `docs/results/` reports.

    python scripts/compare_text_formats.py [--data ../shared/data] [--rows 3000] [--epochs 1]
"""

import argparse
import json
import sys
import time

from kagglenlp import paths
from kagglenlp.patents.config import PatentsConfig
from kagglenlp.patents.inputs import FORMATS
from kagglenlp.patents.run import run_experiment


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="shared data folder (default: KAGGLENLP_DATA or ../shared/data)")
    p.add_argument("--rows", type=int, default=3000)
    p.add_argument("--epochs", type=float, default=1)
    p.add_argument("--folds", type=int, default=2)
    p.add_argument(
        "--bs", type=int, default=16, help="small batches: one CPU epoch of bs 128 is ~12 steps, too few to learn"
    )
    p.add_argument("--model", default="minilm")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    data = a.data or paths.shared_data()
    if data is None:
        sys.exit("error: shared data not found; pass --data")
    rows = []
    for fmt in FORMATS:
        cfg = PatentsConfig(
            data=f"{data}/uspppm",
            model=a.model,
            arch="cross",  # the formats of the cross-encoder (cpc-siblings is cross-only)
            folds=a.folds,
            split="group",
            text=fmt,
            titles=f"{data}/cpc/cpc_texts.json",
            epochs=a.epochs,
            bs=a.bs,
            max_rows=a.rows,
            name=f"cmp-{fmt}",
            overwrite=a.overwrite,
        )
        t0 = time.time()
        cv = run_experiment(cfg) or json.loads((paths.exp_dir(cfg.name) / "cv.json").read_text())
        rows.append((fmt, cv["pearson"], cv["folds"], cv["seconds"], time.time() - t0))
    print("\n| text format | OOF Pearson | per fold | train seconds |\n|---|---|---|---|")
    for fmt, r, per, s, _ in rows:
        print(f"| `{fmt}` | {r:.4f} | {' / '.join(f'{v:.3f}' for v in per.values())} | {s:.0f} |")
    best = max(rows, key=lambda r: r[1])[0]
    print(f"\nbest: {best}")


if __name__ == "__main__":
    main()
