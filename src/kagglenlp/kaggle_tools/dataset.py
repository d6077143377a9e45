"""The code dataset: the `kagglenlp` wheel (plus, optionally, offline wheels for Kaggle's Python) on Kaggle.

A kernel with the internet off then installs with
`pip install --no-index --find-links /kaggle/input/<slug> kagglenlp`.
Steps: `project_root` (the checkout in the current folder) -> `check_project` (no credential among the files the
wheel is built from, named by their own paths) -> `build_wheel` -> `download_wheels` (optional) -> `stage` (files +
`dataset-metadata.json`, checked for credentials) -> `upload` (`kaggle datasets create`, or `version` when the slug
exists).
"""

import hashlib
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import UserError, require
from . import creds
from .image import KAGGLE_PYTHON  # Kaggle's image Python (major.minor) the dependency wheels are fetched for
from .meta import dumps, validate_dataset_meta
from .proc import KaggleError, kaggle, run

__all__ = [
    "project_root",
    "project_files",
    "check_project",
    "build_wheel",
    "pip_download_args",
    "download_wheels",
    "staging_plan",
    "stage",
    "check_stage_dir",
    "upload",
    "source_version",
    "wheel_requirements",
    "unmet_requirements",
    "KAGGLE_PYTHON",
    "KAGGLE_PLATFORM",
]

KAGGLE_PLATFORM = "manylinux_2_17_x86_64"  # ... and its platform tag (pip also accepts older manylinux wheels)
PROJECT_FILES = ["pyproject.toml", "setup.cfg", "setup.py", "README.md", "LICENSE", "MANIFEST.in"]


def project_root(start=None):
    """The kagglenlp checkout holding `start` (default: the current folder): the first folder upwards with
    `pyproject.toml` and `src/kagglenlp`. Not the checkout kagglenlp happens to be installed from: the dataset must
    hold the code the user is working on."""
    here = Path(start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "pyproject.toml").is_file() and (d / "src" / "kagglenlp").is_dir():
            return d
    installed = Path(__file__).resolve().parents[3]
    hint = f" (kagglenlp is installed from {installed})" if (installed / "pyproject.toml").is_file() else ""
    raise UserError(
        f"{here} is not inside a kagglenlp checkout (pyproject.toml with src/kagglenlp); run the command from "
        f"your checkout or pass --project{hint}"
    )


def project_files(root):
    "`[(source path, path in the build copy)]` of the files the wheel of project `root` is built from."
    root = Path(root)
    out = [(root / n, Path(n)) for n in PROJECT_FILES if (root / n).is_file()]
    for p in sorted((root / "src").rglob("*")):
        rel = p.relative_to(root)
        junk = ("__pycache__", ".ipynb_checkpoints")
        skip = any(part.endswith(".egg-info") or part in junk for part in rel.parts)
        if p.is_file() and not skip and p.suffix != ".pyc":
            out.append((p, rel))
    return out


def check_project(root, secrets=None):
    """Refuse (`UserError` naming each file where it is in the checkout) credentials among the files the wheel is
    built from: a `kaggle.json` in the package folder is refused, not silently left out of the wheel."""
    creds.check_no_credentials([p for p, _ in project_files(root)], secrets=secrets, shape_wheels=())


VERSION_RE = re.compile(r'^(version\s*=\s*")([^"+]+)(?:\+[^"]*)?(")', re.M)


def source_version(root):
    """`<pyproject version>+g<hash of the files the wheel is built from>` (e.g. `0.1.0+g3f2a...`): every change of
    the sources gives another version, so pip never takes an installed build for the staged one."""
    root = Path(root)
    m = VERSION_RE.search((root / "pyproject.toml").read_text())
    require(m, f'{root / "pyproject.toml"} has no `version = "..."` line')
    h = hashlib.sha256()
    for p, rel in project_files(root):
        h.update(rel.as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return f"{m[2]}+g{h.hexdigest()[:12]}"


def build_wheel(root, dest, timeout=300, secrets=None):
    """Build the wheel of project `root` into `dest` from a clean copy (no caches, no stray files), after
    `check_project`, with the per-build version `source_version(root)`; returns its path."""
    root, dest = Path(root), Path(dest)
    check_project(root, secrets)
    dest.mkdir(parents=True, exist_ok=True)
    version = source_version(root)
    with tempfile.TemporaryDirectory(prefix="kagglenlp-wheel-") as tmp:
        src = Path(tmp) / "project"
        for p, rel in project_files(root):
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, src / rel)
        pp = src / "pyproject.toml"
        pp.write_text(VERSION_RE.sub(lambda m: m[1] + version + m[3], pp.read_text(), count=1))
        out = Path(tmp) / "dist"
        args = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
        run([*args, "-w", out, src], timeout=timeout, what="building the kagglenlp wheel")
        wheels = sorted(out.glob("*.whl"))
        require(len(wheels) == 1, f"expected one wheel from pip wheel, got {[w.name for w in wheels]}")
        target = dest / wheels[0].name
        require(not target.exists(), f"{target} exists; remove it or choose another folder")
        shutil.move(str(wheels[0]), target)
    return target


def pip_download_args(specs, dest, python_version=KAGGLE_PYTHON, platform=KAGGLE_PLATFORM, extra=()):
    "`pip download` arguments fetching binary wheels of `specs` (and their dependencies) for Kaggle's Python."
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "-q",
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--platform",
        platform,
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "-d",
        str(dest),
        *extra,
        *map(str, specs),
    ]


def download_wheels(specs, dest, timeout=900, **kw):
    "Download wheels of `specs` for Kaggle into `dest` (see `pip_download_args`); returns the new wheel paths."
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.glob("*.whl"))
    run(pip_download_args(specs, dest, **kw), timeout=timeout, what="pip download of dependency wheels")
    return sorted(set(dest.glob("*.whl")) - before)


def _wheel_name(w):
    "The normalised project name of wheel file `w`."
    from packaging.utils import canonicalize_name

    return canonicalize_name(Path(w).name.split("-")[0])


def wheel_requirements(wheel, python_version=KAGGLE_PYTHON):
    """The requirements (`packaging` `Requirement`s) of `wheel` that apply on Linux under `python_version`, no
    extras."""
    from email.parser import Parser

    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as z:
        [meta] = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        msg = Parser().parsestr(z.read(meta).decode())
    env = dict(python_version=python_version, sys_platform="linux", platform_system="Linux", extra="")
    reqs = [Requirement(s) for s in msg.get_all("Requires-Dist") or []]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(env)]


def unmet_requirements(wheels, provided, python_version=KAGGLE_PYTHON):
    "`{wheel name: [requirement]}`: what `wheels` require that neither `provided` (names) nor the wheels give."
    from packaging.utils import canonicalize_name

    have = set(provided) | {_wheel_name(w) for w in wheels}
    out = {}
    for w in wheels:
        miss = [str(r) for r in wheel_requirements(w, python_version) if canonicalize_name(r.name) not in have]
        if miss:
            out[Path(w).name] = miss
    return out


def stage_deps(own, specs, dest, provided, with_deps=False, rounds=8, **kw):
    """Wheels for `specs` (each exactly what it names, without its dependencies), plus with `with_deps` every
    requirement of `own` and of them that the image (`provided`, names) lacks, round by round; returns
    `(wheels, unmet)` where `unmet` is `unmet_requirements` of the lot (empty with `with_deps`)."""
    got = download_wheels(specs, Path(dest) / "0", extra=["--no-deps"], **kw) if specs else []
    for i in range(1, rounds + 1 if with_deps else 1):
        unmet = unmet_requirements([own, *got], provided, kw.get("python_version", KAGGLE_PYTHON))
        todo = sorted({r for rs in unmet.values() for r in rs})
        if not todo:
            break
        got += download_wheels(todo, Path(dest) / str(i), extra=["--no-deps"], **kw)
    return got, unmet_requirements([own, *got], provided, kw.get("python_version", KAGGLE_PYTHON))


def staging_plan(wheels, extra_files=()):
    "`[(source, name)]` of files to stage: each wheel and extra file once, by base name; `UserError` on a clash."
    plan, seen = [], {}
    for p in [*map(Path, wheels), *map(Path, extra_files)]:
        require(p.is_file(), f"file not found: {p}")
        require(p.name != "dataset-metadata.json", f"{p}: dataset-metadata.json is written by kagglenlp")
        if p.name in seen:
            if seen[p.name].resolve() == p.resolve():
                continue
            raise UserError(f"two files named {p.name}: {seen[p.name]} and {p}")
        seen[p.name] = p
        plan.append((p, p.name))
    require(plan, "nothing to stage")
    return plan


def check_stage_dir(stage_dir, overwrite=False):
    """Refuse `stage_dir` unless it is missing or empty, or (with `overwrite`) an earlier staging folder (it holds
    `dataset-metadata.json` and files only): anything else is never deleted."""
    d = Path(stage_dir)
    if not d.exists() or not any(d.iterdir()):
        return d
    require(overwrite, f"staging folder {d} is not empty; pass --overwrite to replace it, or another --stage-dir")
    require(
        (d / "dataset-metadata.json").is_file() and all(p.is_file() for p in d.iterdir()),
        f"staging folder {d} holds more than an earlier staging (dataset-metadata.json and files); choose another",
    )
    return d


def stage(stage_dir, meta, wheels, extra_files=(), secrets=None, overwrite=False):
    """Write `meta` as `dataset-metadata.json` and copy the files into empty folder `stage_dir` (an earlier staging
    is replaced with `overwrite`), after checking that none is or holds a credential (our own wheel is searched for
    key-shaped strings too). Returns the staged paths."""
    validate_dataset_meta(meta)
    plan = staging_plan(wheels, extra_files)
    creds.check_no_credentials([p for p, _ in plan], secrets=secrets, shape_wheels=("kagglenlp-",))
    stage_dir = check_stage_dir(stage_dir, overwrite)
    if stage_dir.exists():
        for p in stage_dir.iterdir():
            p.unlink()
    stage_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for p, name in plan:
        shutil.copy2(p, stage_dir / name)
        out.append(stage_dir / name)
    (stage_dir / "dataset-metadata.json").write_text(dumps(meta))
    creds.check_no_credentials([stage_dir / "dataset-metadata.json"], secrets=secrets)
    return out


def upload(stage_dir, notes="kagglenlp code", public=False, timeout=900):
    "Create the dataset staged in `stage_dir`, or add a version when its slug is taken; returns created/versioned."
    creds.require_credentials()
    creds.check_no_credentials(
        sorted(p for p in Path(stage_dir).iterdir() if p.is_file()), shape_wheels=("kagglenlp-",)
    )
    args = ["datasets", "create", "-p", stage_dir, "--dir-mode", "zip", *(["--public"] if public else [])]
    print(f"uploading {stage_dir} (this can take minutes) ...", file=sys.stderr, flush=True)
    res = kaggle(*args, timeout=timeout, what="kaggle datasets create")
    if "is already in use by a dataset" in res.out:
        kaggle(
            "datasets",
            "version",
            "-p",
            stage_dir,
            "-m",
            notes,
            "--dir-mode",
            "zip",
            timeout=timeout,
            ok=r"Dataset version is being created",
            what="kaggle datasets version",
        )
        return "versioned"
    if "Dataset is being created" not in res.out:
        raise KaggleError(f"kaggle datasets create did not report success:\n{res.tail()}")
    return "created"
