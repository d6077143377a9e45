"""The one place that knows Kaggle from local, and the only reader of `KAGGLE_*` / `KAGGLENLP_*` variables.

Inside a Kaggle kernel (`KAGGLE_KERNEL_RUN_TYPE` set) inputs are mounted under `<kaggle root>/input` and outputs
go to `<kaggle root>/working`; the Kaggle root is `/kaggle`, or `KAGGLENLP_KAGGLE_ROOT` (the local rehearsal of a
kernel points it at a stand-in folder). Locally, inputs are `input/<slug>` and outputs go to `outputs/` and
`submissions/` under the project root (`KAGGLENLP_ROOT`, else the current directory). `KAGGLENLP_DATA` points at
the shared real data. Mounts on Kaggle (competitions, datasets, kernel outputs, models) are all found by
`kaggle_input`.
"""

import os
from pathlib import Path

__all__ = [
    "COMPETITION",
    "is_kaggle",
    "kaggle_root",
    "kaggle_input_root",
    "kaggle_input_roots",
    "kaggle_working",
    "kaggle_input",
    "kernel_output_dir",
    "model_mount",
    "hub_offline",
    "root",
    "input_dir",
    "outputs_dir",
    "exp_dir",
    "submissions_dir",
    "shared_data",
    "env",
]

COMPETITION = "us-patent-phrase-to-phrase-matching"


def env(name, default=None):
    "The environment variable `name` (a `KAGGLE_*`/`KAGGLENLP_*`/`HF_*` setting), or `default`."
    return os.environ.get(name, default)


def is_kaggle():
    "True inside a Kaggle kernel (interactive or batch). It says nothing about the internet: see `hub_offline`."
    return bool(env("KAGGLE_KERNEL_RUN_TYPE", ""))


def hub_offline():
    "True when the Hugging Face hub must not be contacted (`HF_HUB_OFFLINE=1`, as in an internet-off rehearsal)."
    return env("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def kaggle_root():
    "Kaggle's mount root: `KAGGLENLP_KAGGLE_ROOT`, else `/kaggle`."
    return Path(env("KAGGLENLP_KAGGLE_ROOT") or "/kaggle")


def kaggle_input_root():
    "Where Kaggle mounts a kernel's sources (`/kaggle/input`)."
    return kaggle_root() / "input"


def kaggle_input_roots():
    """Where a mounted source may be: `kaggle_input_root()` (a rehearsal's stand-in), then Kaggle's own
    `/kaggle/input`."""
    return list(dict.fromkeys((kaggle_input_root(), Path("/kaggle/input"))))


def kaggle_working():
    "A kernel's working folder, whose files become its outputs (`/kaggle/working`)."
    return kaggle_root() / "working"


def kaggle_input(slug, base=None):
    """Kaggle mount of source `slug`: `base/slug`, `base/competitions/slug`, or `base/{datasets,notebooks,models}/
    <owner>/slug[/...]` (Kaggle has used each layout); `base/slug` when none exists yet."""
    base = Path(base) if base is not None else kaggle_input_root()
    for p in [base / slug, base / "competitions" / slug, *sorted(base.glob(f"*/*/{slug}"))]:
        if p.exists():
            return p
    return base / slug


def kernel_output_dir(kernel_id):
    "Where kernel `owner/slug`'s outputs appear to a later kernel that lists it in `kernel_sources`."
    return kaggle_input(str(kernel_id).split("/")[-1])


def model_mount(ref):
    "Where Kaggle Model version `owner/model/framework/variation/VERSION` is mounted: `<input>/model/.../VERSION`."
    return kaggle_input("/".join(str(ref).split("/")[1:]))


def root():
    "Local project root: `KAGGLENLP_ROOT` or the current directory; the kernel's working folder on Kaggle."
    if is_kaggle():
        return kaggle_working()
    return Path(env("KAGGLENLP_ROOT") or ".").resolve()


def input_dir(slug=COMPETITION):
    "Folder holding competition `slug`'s files on Kaggle or locally (`input/<slug>`)."
    return kaggle_input(slug) if is_kaggle() else root() / "input" / slug


def outputs_dir():
    "Where experiments write: `outputs/` locally, `/kaggle/working/outputs` on Kaggle."
    return root() / "outputs"


def exp_dir(name):
    "Output folder of experiment `name`."
    return outputs_dir() / name


def submissions_dir():
    "Where named submission files go (`submissions/`)."
    return root() / "submissions"


def shared_data():
    """The shared real-data folder: `KAGGLENLP_DATA` if set, else `../shared/data` beside the project; None when
    absent."""
    explicit = env("KAGGLENLP_DATA")
    if explicit:
        return Path(explicit) if Path(explicit).is_dir() else None  # an explicit setting wins, even a wrong one
    here = Path(__file__).resolve()
    cands = [Path.cwd().parent / "shared" / "data"] + [p.parent / "shared" / "data" for p in here.parents]
    return next((p for p in cands if p.is_dir()), None)
