"""Local rehearsal of Kaggle kernels: run kernel folders written by `push/folds --dry-run --dir` as Kaggle would.

Each kernel runs with papermill on the exact notebook that would be pushed, in a subprocess whose environment is a
kernel's: `KAGGLE_KERNEL_RUN_TYPE=Batch`, no Kaggle credentials, and `KAGGLENLP_KAGGLE_ROOT` pointing at a stand-in
for `/kaggle` (`<work>/<slug>/kaggle`). Its `input/` holds what `kernel-metadata.json` names, as symbolic links:
competition data from a local folder, datasets (the code dataset's staged wheel folder) and models from folders
given as `REF=DIR`, and the outputs of kernels rehearsed earlier for `kernel_sources`. Its `working/` is the
current folder and becomes the kernel's outputs. With `enable_internet` false, hub downloads and pip's index are
switched off (`HF_HUB_OFFLINE`, `TRANSFORMERS_OFFLINE`, `PIP_NO_INDEX`, no pip configuration), so the install cell
must find the staged wheels. A kernel whose `working/` ends with a `submission.csv` has it checked against the
competition's `sample_submission.csv`.

The notebooks never see the working tree (`PYTHONPATH` is dropped) nor an installed kagglenlp: they run in a fresh
virtual environment made for each rehearsal (`<work>/.python`), a throwaway layer over the packages of an image
profile's environment (`image.profile_env`: Kaggle's Python and packages, nothing else; built once and never
changed) or, with `image='local'`, over this interpreter's packages except kagglenlp. The install cell installs the
staged wheels into the layer, so the next rehearsal sees only what it staged. `python` runs them with that
interpreter as it is. Not rehearsed: Kaggle's GPU and its time limits.
"""

import json
import os
import shutil
import site
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import UserError, require
from .proc import Deadline, KaggleError, run

__all__ = [
    "Kernel",
    "read_kernel",
    "order_kernels",
    "parse_sources",
    "plan_inputs",
    "kernel_env",
    "kernelspec",
    "check",
    "rehearse",
    "default_work",
    "stand_in_python",
    "interpreter_for",
    "site_packages",
    "DONE_FILE",
    "LOCAL",
]

DONE_FILE = "rehearsal.json"  # written beside a kernel's stand-in root once it ran to the end (Kaggle's COMPLETE)
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PIP_NO_INDEX": "1"}
LOCAL = "local"  # `--image local`: the quick path, this interpreter's packages instead of Kaggle's image
OWN = ("kagglenlp", "__editable__.kagglenlp", "__editable___kagglenlp")  # site-packages entries of kagglenlp


@dataclass
class Kernel:
    "A kernel folder: its metadata and notebook."

    folder: Path
    meta: dict

    @property
    def id(self):
        "`owner/slug`."
        return self.meta["id"]

    @property
    def slug(self):
        "The id's slug (its outputs' mount name)."
        return self.id.split("/")[1]

    @property
    def notebook(self):
        "The notebook file that would be pushed."
        return self.folder / self.meta["code_file"]


def read_kernel(folder):
    "The `Kernel` in `folder` (`kernel-metadata.json` and its notebook), or `UserError` saying what is wrong."
    from .meta import validate_kernel_meta

    folder = Path(folder)
    mf = folder / "kernel-metadata.json"
    require(
        mf.is_file(),
        f"{folder} is not a kernel folder (no kernel-metadata.json); write one with --dry-run --dir",
    )
    try:
        meta = json.loads(mf.read_text())
    except ValueError as e:
        raise UserError(f"{mf} is not valid JSON: {e}") from None
    require(isinstance(meta, dict), f"{mf} must hold a JSON object")
    validate_kernel_meta({"language": "python", "kernel_type": "notebook", **meta})
    k = Kernel(folder, meta)
    require(meta.get("kernel_type", "notebook") == "notebook", f"{mf}: only notebook kernels can be rehearsed")
    require(meta.get("language", "python") == "python", f"{mf}: only python kernels can be rehearsed")
    require(k.notebook.is_file(), f"{mf} names code_file {meta['code_file']!r}, which is not in {folder}")
    return k


def _base(ref):
    "`owner/slug[/version]` -> `owner/slug`."
    return "/".join(str(ref).split("/")[:2])


def order_kernels(kernels):
    "`kernels` with every kernel after those of them it lists in `kernel_sources` (otherwise in the given order)."
    ids = [k.id for k in kernels]
    require(len(set(ids)) == len(ids), f"a kernel is given twice: {ids}")
    todo, done, out = list(kernels), set(), []
    while todo:
        ready = [k for k in todo if all(_base(s) in done or _base(s) not in ids for s in k.meta["kernel_sources"])]
        require(ready, "kernel_sources form a cycle among " + ", ".join(k.id for k in todo))
        out.append(ready[0])
        done.add(ready[0].id)
        todo.remove(ready[0])
    return out


def parse_sources(items):
    "`['owner/slug=DIR', ...]` -> `{ref: Path}`; each folder must exist."
    out = {}
    for it in items or []:
        ref, sep, d = str(it).partition("=")
        require(sep and ref and d, f"--source {it!r} must look like REF=DIR (e.g. alice/kagglenlp-code=staged/)")
        require(Path(d).is_dir(), f"--source {ref}: folder not found: {d}")
        out[ref.strip("/")] = Path(d).resolve()
    return out


def _done(work, kernel_id):
    "The outputs folder of kernel `kernel_id` rehearsed to the end under `work` earlier, or None."
    d = Path(work) / kernel_id.split("/")[1]
    try:
        ok = json.loads((d / DONE_FILE).read_text()).get("id") == kernel_id
    except (OSError, ValueError):
        return None
    return d / "kaggle" / "working" if ok else None


def plan_inputs(meta, sources, data=None, outputs=None, work=None):
    """`({mount path under input/: local folder}, [problems])` for kernel metadata `meta`: competitions from
    `data`, `sources[slug]` or `input/<slug>`; datasets and models from `sources`; kernel sources from `outputs`
    (kernels of this rehearsal), an earlier rehearsal under `work`, or `sources`."""
    outputs, mounts, missing = outputs or {}, {}, []
    for slug in meta.get("competition_sources", []):
        local = paths.root() / "input" / slug
        d = Path(data) if data else sources.get(slug) or (local if local.is_dir() else None)
        if d is None:
            missing.append(f"competition {slug}: pass --data DIR (train.csv, test.csv, sample_submission.csv)")
        mounts[slug] = d
    for ref in meta.get("dataset_sources", []):
        d = sources.get(ref) or sources.get(_base(ref))
        if d is None:
            missing.append(
                f"dataset {ref}: pass --source {_base(ref)}=DIR (for the code dataset: the folder staged by "
                "`kagglenlp kaggle dataset --stage-dir DIR --dry-run`)"
            )
        mounts[_base(ref).split("/")[1]] = d
    for ref in meta.get("kernel_sources", []):
        d = outputs.get(_base(ref)) or (_done(work, _base(ref)) if work else None) or sources.get(_base(ref))
        if d is None:
            missing.append(
                f"kernel {ref}: rehearse it first (in the same command or earlier with the same --work), or "
                f"pass --source {_base(ref)}=DIR holding its outputs"
            )
        mounts[_base(ref).split("/")[1]] = d
    for ref in meta.get("model_sources", []):
        d = sources.get(ref) or sources.get(ref.rsplit("/", 1)[0])
        if d is None:
            missing.append(f"model {ref}: pass --source {ref}=DIR")
        mounts["/".join(ref.split("/")[1:])] = d
    return mounts, missing


def kernel_env(meta, root, jupyter_path=None, base=None):
    """Environment of a rehearsed kernel: `base` (this process's) without Kaggle credentials or kagglenlp settings,
    plus a kernel's `KAGGLE_KERNEL_RUN_TYPE`, the stand-in `root`, and no hub or package index when `meta` has no
    internet."""
    base = os.environ if base is None else base
    drop = ("KAGGLE", "KAGGLENLP_", "PIP_", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYENV_VERSION")
    env = {k: v for k, v in base.items() if not k.startswith(drop)}  # the working tree and pip settings stay here
    env.update(KAGGLE_KERNEL_RUN_TYPE="Batch", KAGGLENLP_KAGGLE_ROOT=str(root))
    if not meta.get("enable_internet", True):  # the kaggle CLI's default is on; our builders always write it
        env.update(OFFLINE, PIP_CONFIG_FILE=os.devnull)  # no index and no find-links but the install cell's
    if jupyter_path:
        env["JUPYTER_PATH"] = os.pathsep.join([str(jupyter_path), *filter(None, [base.get("JUPYTER_PATH")])])
    return env


def kernelspec(python, folder, name="kagglenlp-rehearsal"):
    """Write a Jupyter kernelspec `name` running interpreter `python` (which needs ipykernel) under
    `folder/kernels`; returns `folder` (for `JUPYTER_PATH`)."""
    py = _interpreter(python)
    spec = {
        "argv": [py, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name,
        "language": "python",
    }
    d = Path(folder) / "kernels" / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "kernel.json").write_text(json.dumps(spec, indent=1))
    return Path(folder)


def default_work(folders):
    "Default rehearsal folder for kernel folders `folders`: `<their parent>-rehearsal` beside their parent."
    parent = Path(folders[0]).resolve().parent
    return parent.with_name(parent.name + "-rehearsal")


def _link_inputs(root, mounts):
    "Make `root/input/<mount>` a symbolic link to each local folder of `mounts`, and an empty `root/working`."
    (root / "input").mkdir(parents=True)  # there on Kaggle even without sources
    for name, d in mounts.items():
        p = root / "input" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.symlink_to(Path(d).resolve(), target_is_directory=True)
    (root / "working").mkdir(parents=True)


def _check_submission(kernel, root):
    "Check `working/submission.csv` of a kernel with a competition source against its `sample_submission.csv`."
    from ..submission import check_submission_file

    sub = root / "working" / "submission.csv"
    comps = kernel.meta.get("competition_sources", [])
    if not (sub.is_file() and comps):
        return None
    sample = paths.kaggle_input(comps[0], base=root / "input") / "sample_submission.csv"
    n = len(check_submission_file(sub, sample))
    return f"{sub} passes the submission checks against {comps[0]}'s sample_submission.csv ({n} rows)"


def _run_one(k, work, mounts, deadline, kernel_name, jupyter_path, log):
    "Rehearse kernel `k` under `work/<slug>`; returns its outputs folder."
    out = Path(work) / k.slug
    root = out / "kaggle"
    _link_inputs(root, mounts)
    env = kernel_env(k.meta, root, jupyter_path)
    executed = out / k.meta["code_file"]
    args = [sys.executable, "-m", "papermill", k.notebook.resolve(), executed, "--cwd", root / "working"]
    args += ["-k", kernel_name, "--log-output", "--no-progress-bar"]
    hw = " (GPU asked for: runs on this machine)" if k.meta.get("enable_gpu") else ""
    net = "internet on" if k.meta.get("enable_internet") else "internet off"
    log(f"rehearsing {k.id} ({net}{hw}) in {root} ...")
    t0 = time.monotonic()
    try:
        res = run(
            args,
            timeout=deadline.cap(24 * 3600, "rehearsing"),
            what=f"rehearsal of {k.id}",
            env=env,
            cwd=out,
        )
    except KaggleError as e:
        (out / "papermill.log").write_text(str(e))
        raise KaggleError(f"{e}\n(the executed notebook: {executed})") from None
    (out / "papermill.log").write_text(res.out)
    seconds = round(time.monotonic() - t0, 1)
    (out / DONE_FILE).write_text(json.dumps({"id": k.id, "status": "COMPLETE", "seconds": seconds}, indent=1))
    files = sorted(str(p.relative_to(root / "working")) for p in (root / "working").rglob("*") if p.is_file())
    log(f"{k.id} COMPLETE in {seconds:g} s; outputs: {len(files)} files in {root / 'working'}")
    return root / "working"


def site_packages(venv):
    "The site-packages folder of virtual environment `venv`."
    [sp] = (Path(venv) / "lib").glob("python3*/site-packages")
    return sp


def stand_in_python(folder, base=None, python=sys.executable):
    """A fresh virtual environment of interpreter `python` in `folder/venv` over the packages of site-packages
    folders `base` (default: this interpreter's) except kagglenlp, the layer the install cell installs into: a
    `.pth` adds `folder/view/lib/pythonX.Y/site-packages`, a real installed-packages folder of links to every
    other entry (dill, so datasets' fingerprinting, pickles a module by reference only when its path says
    `site-packages`). A `--system-site-packages` venv would also show an editable kagglenlp, which pip calls
    "already satisfied". The view lies outside the venv, so pip never uninstalls or changes what it links to.
    Returns the interpreter."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    run([python, "-m", "venv", "--without-pip", folder / "venv"], timeout=300, what="python -m venv")
    sp = site_packages(folder / "venv")
    view = folder / "view" / "lib" / sp.parent.name / "site-packages"  # the venv's pythonX.Y
    view.mkdir(parents=True)
    for d in base or site.getsitepackages():
        for p in Path(d).iterdir():
            if not p.name.lower().startswith(OWN) and not (view / p.name).exists():
                (view / p.name).symlink_to(p)
    (sp / "_kagglenlp_view.pth").write_text(f"import site; site.addsitedir({str(view)!r})\n")
    return folder / "venv" / "bin" / "python"


def _editable_kagglenlp(python):
    "Where interpreter `python` has an editable kagglenlp installed, or None."
    code = (
        "import importlib.metadata as m\ntry:\n d = m.distribution('kagglenlp')\nexcept m.PackageNotFoundError:\n"
        " pass\nelse:\n u = d.read_text('direct_url.json') or ''\n print(u if '\"editable\": true' in u else '')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYENV_VERSION")}
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    return r.stdout.strip() or None


def interpreter_for(work, python=None, image=None, log=print):
    """The interpreter the notebooks run with: `python` as it is (refused when it has an editable kagglenlp,
    which the install cell would replace), else a fresh `stand_in_python` layer over the environment of image
    profile `image` (`LOCAL` or None: over this interpreter's packages)."""
    if python:
        py = _interpreter(python)
        where = _editable_kagglenlp(py)
        require(
            not where,
            f"--python {python} has an editable kagglenlp install ({where}); the install cell would replace it. "
            "Drop --python (the rehearsal makes its own environment) or pass --image kaggle",
        )
        return Path(py)
    if image and image != LOCAL:  # a throwaway layer over the cached image environment, which no run changes
        from .image import load_profile, profile_env

        env = Path(profile_env(load_profile(image), log=log)).parents[1]
        log(f"packages of the {image} image environment {env} (unchanged); installs go to a layer over it")
        return stand_in_python(Path(work) / ".python", [site_packages(env)], env / "bin" / "python")
    return stand_in_python(Path(work) / ".python")


def _interpreter(python):
    "The path of interpreter `python` (a path or a name on PATH), or `UserError`."
    py = shutil.which(str(python)) or str(python)
    require(Path(py).is_file(), f"--python {python}: interpreter not found")
    return py


def check(kernels, sources=(), data=None, work=None, overwrite=False, python=None, image=None):
    """`(work, {kernel id: mounts})` for rehearsing `kernels` (in order) under `work` (default: `default_work`), or
    one `UserError` listing every missing input and every earlier rehearsal that would be replaced without
    `overwrite`. Nothing is written."""
    sources = parse_sources(sources) if not isinstance(sources, dict) else sources
    require(data is None or Path(data).is_dir(), f"--data folder not found: {data}")
    require(not (python and image), "--python and --image exclude each other")
    if python:
        _interpreter(python)
    if image and image != LOCAL:
        from .image import load_profile

        load_profile(image)
    work = Path(work) if work else default_work([k.folder for k in kernels])
    planned = {k.id: work / k.slug / "kaggle" / "working" for k in kernels}
    plans, problems = {}, []
    for k in kernels:
        plans[k.id], missing = plan_inputs(k.meta, sources, data, planned, work)
        problems += [f"{k.id}: {m}" for m in missing]
        d = work / k.slug
        if d.exists() and any(d.iterdir()) and not overwrite:
            problems.append(
                f"{k.id}: {d} holds an earlier rehearsal; pass --overwrite to replace it, or another --work"
            )
    if problems:
        raise UserError("cannot rehearse:\n  " + "\n  ".join(problems))
    return work, plans


def rehearse(
    folders,
    sources=(),
    data=None,
    work=None,
    python=None,
    timeout=3 * 3600,
    overwrite=False,
    log=print,
    image=None,
):
    """Rehearse the kernel folders `folders` in dependency order (see the module docstring) under `work` (default:
    `default_work`). Every input is checked and every output folder is free before the first kernel runs (`check`);
    an existing `work/<slug>` is replaced only with `overwrite`. Returns `{kernel id: outputs folder}`."""
    require(folders, "give at least one kernel folder")
    kernels = order_kernels([read_kernel(f) for f in folders])
    work, plans = check(kernels, sources, data, work, overwrite, python, image)
    deadline = Deadline(timeout)
    work.mkdir(parents=True, exist_ok=True)
    py = interpreter_for(work, python, image, log)
    log(f"notebooks run with {py}")
    jp, name = kernelspec(py, work / ".jupyter"), "kagglenlp-rehearsal"
    outs = {}
    for k in kernels:
        shutil.rmtree(work / k.slug, ignore_errors=True)
        outs[k.id] = _run_one(k, work, plans[k.id], deadline, name, jp, log)
        note = _check_submission(k, outs[k.id].parent)
        if note:
            log(note)
    return outs
