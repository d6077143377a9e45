"""Kaggle's image as a profile (`kaggle_image.toml`): its Python, packages, and a local environment built from it.

`load_profile('kaggle')` reads the profile shipped with kagglenlp; a path reads another one (tests use a tiny one).
`profile_env(profile)` builds, once, a virtual environment with the profile's Python and exactly its packages under
`~/.cache/kagglenlp/images/<name>-<hash>` (`KAGGLENLP_CACHE` moves it; the hash is the profile's, so a changed
profile builds a new one) and returns its interpreter: `kagglenlp kaggle rehearse --image kaggle` runs the kernels
in it, so a wheel staged for another Python or a dependency the image lacks fails there as it would on Kaggle.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError, require
from .proc import run, secs

__all__ = [
    "Profile",
    "load_profile",
    "profile_hash",
    "package_names",
    "installed_names",
    "find_python",
    "profile_env",
    "folder_size",
    "PROFILE",
    "KAGGLE_PYTHON",
]

PROFILE = Path(__file__).with_name("kaggle_image.toml")  # Kaggle's image, with its source and date
BUILD_TIMEOUT = 3600  # seconds for building a profile environment (torch alone is several GB)


@dataclass(frozen=True)
class Profile:
    "An image profile: a name, its Python (major.minor) and the requirement specifiers of its packages."

    name: str
    python: str
    packages: tuple
    checked: str = ""
    source: str = ""
    path: str = ""
    build: str = ""  # what a build took when last measured (size, time, machine, date), stated before a build
    provides: tuple = ()  # every distribution its environment holds, dependencies included (normalised names)


def _toml(path):
    "The TOML document at `path` as a dict."
    import tomllib  # the standard library's (Python 3.11+, pyproject's requires-python)

    with open(path, "rb") as f:
        return tomllib.load(f)


def load_profile(ref="kaggle"):
    "The profile `ref`: 'kaggle' (the one shipped, `PROFILE`) or the path of a profile TOML file."
    path = PROFILE if ref == "kaggle" else Path(ref)
    require(path.is_file(), f"--image {ref}: no such profile (use 'kaggle' or the path of a profile .toml)")
    try:
        d = _toml(path)
    except ValueError as e:
        raise UserError(f"--image {path}: not valid TOML: {e}") from None
    py = str(d.get("python", ""))
    require(re.fullmatch(r"3\.\d+", py), f"--image {path}: `python` must look like 3.12, got {py!r}")
    pkgs, provides = d.get("packages", []), d.get("provides", [])
    for key, v in (("packages", pkgs), ("provides", provides)):
        require(isinstance(v, list) and all(isinstance(x, str) for x in v), f"{path}: `{key}` must be a list")
    name = str(d.get("name") or path.stem)
    meta = {k: str(d.get(k, "")) for k in ("checked", "source", "build")}
    return Profile(
        name,
        py,
        tuple(pkgs),
        meta["checked"],
        meta["source"],
        str(path),
        meta["build"],
        tuple(provides),
    )


KAGGLE_PYTHON = load_profile().python  # Kaggle's Python (major.minor), for the wheels `--with-deps` stages


def profile_hash(p):
    "A short hash of what profile `p` installs (its Python and packages)."
    return hashlib.sha256(json.dumps([p.python, list(p.packages)]).encode()).hexdigest()[:12]


def package_names(p):
    "The normalised project names profile `p` provides: its packages and everything its environment holds."
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    names = {canonicalize_name(Requirement(s).name) for s in p.packages}
    return names | {canonicalize_name(s) for s in p.provides}


def installed_names(python):
    "The normalised names of every distribution interpreter `python` has (for a profile's `provides`)."
    code = "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'])"
    from packaging.utils import canonicalize_name

    out = run([python, "-c", code], timeout=120, what="listing the environment's distributions").out
    return sorted({canonicalize_name(s) for s in out.split()})


def _pyenv_versions():
    "Python versions pyenv knows (newest last), or []."
    if not shutil.which("pyenv"):
        return []
    r = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True, timeout=60)
    vs = [v.strip() for v in r.stdout.split() if re.fullmatch(r"\d+\.\d+\.\d+", v.strip())]
    return sorted(vs, key=lambda v: tuple(map(int, v.split("."))))


def find_python(version):
    """`(command, env)` running a Python `version` (`3.12`): `python3.12` on PATH, through pyenv's shim with
    `PYENV_VERSION` set to the newest installed 3.12.x when there is one; `UserError` when none runs."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    pv = [v for v in _pyenv_versions() if v.startswith(version + ".")]
    if pv:
        env["PYENV_VERSION"] = pv[-1]
    exe = shutil.which(f"python{version}")
    if exe:
        r = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        if r.returncode == 0 and r.stdout.strip() == version:
            return exe, env
    raise UserError(f"no Python {version} found (python{version} on PATH, or pyenv install {version})")


def cache_root():
    "Folder of the built profile environments (`KAGGLENLP_CACHE`, default `~/.cache/kagglenlp`)."
    from ..paths import env

    return Path(env("KAGGLENLP_CACHE") or Path.home() / ".cache" / "kagglenlp") / "images"


def env_python(venv):
    "The interpreter of virtual environment `venv`."
    return Path(venv) / "bin" / "python"


def folder_size(folder):
    "Bytes of the files under `folder` (links not followed)."
    return sum(p.lstat().st_size for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink())


def profile_env(p, root=None, log=print, timeout=BUILD_TIMEOUT, progress=sys.stderr):
    """The interpreter of profile `p`'s environment under `root` (default `cache_root()`), built first when
    missing: `python -m venv` with the profile's Python, then `pip install` of exactly its packages, pip's
    progress shown on `progress`, its size and time stated at the end. A build that stopped half way is started
    over; one build at a time (a file lock). Rehearsals never install into it (`rehearse.stand_in_python` layers
    over it)."""
    from filelock import FileLock

    root = Path(root or cache_root())
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"{p.name}-py{p.python}-{profile_hash(p)}"
    with FileLock(str(venv) + ".lock"):
        if (venv / "profile.json").is_file():
            return env_python(venv)
        exe, env = find_python(p.python)
        part = venv.with_name(venv.name + ".partial")
        shutil.rmtree(part, ignore_errors=True)
        note = f"; {p.build}" if p.build else ""
        log(
            f"building the {p.name} image environment (Python {p.python}, {len(p.packages)} packages) in {venv}, "
            f"once: it is cached for later rehearsals{note} ..."
        )
        t0 = time.monotonic()
        run([exe, "-m", "venv", part], timeout=300, what=f"python{p.python} -m venv", env=env)
        (part / "requirements.txt").write_text("\n".join(p.packages) + "\n")
        pip = [env_python(part), "-m", "pip", "install", "--progress-bar", "off", "-r", part / "requirements.txt"]
        penv = {k: v for k, v in env.items() if k != "PYENV_VERSION"}
        run(pip, timeout=timeout, what=f"pip install of the {p.name} profile's packages", env=penv, tee=progress)
        shutil.rmtree(venv, ignore_errors=True)
        part.rename(venv)
        # the venv's scripts name the .partial folder in their shebangs; only `python -m ...` is used
        meta = dict(name=p.name, python=p.python, packages=list(p.packages), source=p.source, checked=p.checked)
        (venv / "profile.json").write_text(json.dumps(meta, indent=1))
        log(
            f"built the {p.name} image environment in {secs(time.monotonic() - t0)}: {folder_size(venv) / 1e9:.1f} GB",
        )
    return env_python(venv)


def _main(argv=None):
    """Build the profile environment named by `argv[0]` (for a background build): `python -m ... kaggle`; with
    `--provides`, print the `provides` list of the built environment."""
    argv = sys.argv[1:] if argv is None else argv
    names = [a for a in argv if not a.startswith("--")]
    py = profile_env(load_profile(names[0] if names else "kaggle"))
    print(json.dumps(installed_names(py), indent=1) if "--provides" in argv else py)


if __name__ == "__main__":
    _main()
