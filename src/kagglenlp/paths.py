"""The one place that knows Kaggle from local: where competition input is read and outputs are written.

On Kaggle (`KAGGLE_KERNEL_RUN_TYPE` set) input is `/kaggle/input/<slug>` (or the newer
`/kaggle/input/competitions/<slug>`) and outputs go under `/kaggle/working`. Locally input is
`input/<slug>` and outputs go to `outputs/` and `submissions/` under the project root (the current
directory). `KAGGLENLP_ROOT` overrides the local root; `KAGGLENLP_DATA` points at the shared real data.
"""
import os
from pathlib import Path

__all__ = ["is_kaggle", "root", "kaggle_input", "input_dir", "outputs_dir", "exp_dir", "submissions_dir",
           "shared_data", "COMPETITION"]

COMPETITION = "us-patent-phrase-to-phrase-matching"
KAGGLE_INPUT = Path("/kaggle/input")
KAGGLE_WORKING = Path("/kaggle/working")


def is_kaggle():
    "True inside a Kaggle kernel (interactive or batch)."
    return bool(os.environ.get("KAGGLE_KERNEL_RUN_TYPE", ""))


def root():
    "Local project root: `KAGGLENLP_ROOT` or the current directory; `/kaggle/working` on Kaggle."
    if is_kaggle(): return KAGGLE_WORKING
    return Path(os.environ.get("KAGGLENLP_ROOT", ".")).resolve()


def kaggle_input(slug, base=KAGGLE_INPUT):
    "Kaggle mount of `slug`: `base/slug`, else `base/competitions/slug`, else `base/{datasets,notebooks,models}/*/slug`."
    for p in [base/slug, base/"competitions"/slug, *sorted(base.glob(f"*/*/{slug}"))]:
        if p.exists(): return p
    return base/slug


def input_dir(slug=COMPETITION):
    "Folder holding competition `slug`'s files on Kaggle or locally (`input/<slug>`)."
    return kaggle_input(slug) if is_kaggle() else root()/"input"/slug


def outputs_dir():
    "Where experiments write: `outputs/` locally, `/kaggle/working/outputs` on Kaggle."
    return root()/"outputs"


def exp_dir(name):
    "Output folder of experiment `name`."
    return outputs_dir()/name


def submissions_dir():
    "Where named submission files go (`submissions/`)."
    return root()/"submissions"


def shared_data():
    "The shared real-data folder: `KAGGLENLP_DATA` if set, else `../shared/data` beside the project; None when absent."
    env = os.environ.get("KAGGLENLP_DATA")
    if env: return Path(env) if Path(env).is_dir() else None  # an explicit setting wins, even a wrong one
    here = Path(__file__).resolve()
    cands = [Path.cwd().parent/"shared"/"data"] + [p.parent/"shared"/"data" for p in here.parents]
    return next((p for p in cands if p.is_dir()), None)
