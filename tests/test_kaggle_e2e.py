"""End to end: `kagglenlp kaggle ...` runs the real `kaggle` CLI against a stub server on 127.0.0.1.

We assert what reaches the server (kernel settings and sources, notebook text, uploaded bytes, submission
fields) and that every failure (server error, missing credentials, refused connection, stalled retries)
ends non-zero, with one message, in bounded time.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from helpers import kaggle_cli as cli
from kaggle_stub import KaggleStub, set_env

from kagglenlp.kaggle_tools import dataset as ds
from kagglenlp.kaggle_tools.meta import dataset_meta
from kagglenlp.kaggle_tools.proc import KaggleError, kaggle

pytestmark = pytest.mark.skipif(__import__("importlib").util.find_spec("kaggle") is None, reason="kaggle not installed")
ROOT = Path(__file__).resolve().parents[1]
USER, COMP = "stubuser", "us-patent-phrase-to-phrase-matching"


@pytest.fixture
def stub(tmp_path, monkeypatch):
    with KaggleStub() as s:
        set_env(monkeypatch, tmp_path, s.proxy)
        yield s


PARAMS = "fold = None\nfolds = 5\nmodel = None\nsplit = 'group'\nseed = 42\nsettings = {}\nmodel_dirs = []\n"
PARAMS += "data_dir = 'input'"


def notebook(path, params=PARAMS):
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    c = nbformat.v4.new_code_cell("print(fold)")
    c.outputs, c.execution_count = [nbformat.v4.new_output("stream", text="SECRET-OUTPUT\n")], 4
    nb.cells = [nbformat.v4.new_markdown_cell("# Train"), p, c]
    nb.metadata.pop("kernelspec", None)
    nbformat.write(nb, path)
    return path


def code_cells(text):
    "Code cell sources of a pushed notebook text."
    return [c["source"] for c in json.loads(text)["cells"] if c["cell_type"] == "code"]


# ---- kernels ---------------------------------------------------------------------------------
def test_push_sends_offline_private_kernel_with_sources_and_clean_notebook(stub, tmp_path, capsys):
    nb = notebook(tmp_path / "train.ipynb")
    rc, out, err = cli(
        capsys,
        "push",
        nb,
        "--id",
        f"{USER}/uspppm-fold2",
        "--dataset",
        f"{USER}/extra-data",
        "--code-dataset",
        f"{USER}/kagglenlp-code",
        "--competition",
        COMP,
        "--kernel",
        f"{USER}/uspppm-eda",
        "--param",
        "fold=2",
        "--gpu",
    )
    assert rc == 0, err
    assert f"pushed {USER}/uspppm-fold2 version 1" in out
    [call] = stub.api("SaveKernel")
    b = call.json
    assert (b["slug"], b["newTitle"], b["language"], b["kernelType"]) == (
        f"{USER}/uspppm-fold2",
        "Uspppm Fold2",
        "python",
        "notebook",
    )
    assert b["enableInternet"] is False and b["isPrivate"] is True and b["enableGpu"] is True
    assert b["datasetDataSources"] == [f"{USER}/extra-data", f"{USER}/kagglenlp-code"]
    assert b["competitionDataSources"] == [COMP] and b["kernelDataSources"] == [f"{USER}/uspppm-eda"]
    text = json.loads(b["text"])
    assert "SECRET-OUTPUT" not in b["text"] and all(c.get("outputs", []) == [] for c in text["cells"])
    assert text["metadata"]["kernelspec"]["name"] == "python3"
    src = code_cells(b["text"])
    assert "--find-links" in src[0] and "kagglenlp-code" in src[0]  # install cell first
    assert src[1].startswith("fold = None") and src[2] == "# Parameters\nfold = 2\n"  # injected after `parameters`
    assert call.headers.get("Authorization", "").startswith("Basic ")
    rc, out, _ = cli(capsys, "push", nb, "--id", f"{USER}/uspppm-fold2")
    assert rc == 0 and "version 2" in out  # the version is read from the CLI, not assumed


def test_push_reports_server_error_although_cli_exits_zero(stub, tmp_path, capsys):
    stub.replies["SaveKernel"] = {"error": "Notebook slug is reserved", "ref": "", "url": ""}
    rc, out, err = cli(capsys, "push", notebook(tmp_path / "t.ipynb"), "--id", f"{USER}/uspppm-fold0")
    assert rc == 2 and "refused" in err and "Notebook slug is reserved" in err
    assert "pushed" not in out


def test_push_fails_when_kaggle_drops_a_source(stub, tmp_path, capsys):
    stub.replies["SaveKernel"] = {
        "ref": "/code/x",
        "url": "u",
        "versionNumber": 4,
        "error": "",
        "invalidDatasetSources": [f"{USER}/nope-data"],
    }
    rc, _, err = cli(
        capsys, "push", notebook(tmp_path / "t.ipynb"), "--id", f"{USER}/uspppm-fold0", "--dataset", f"{USER}/nope-data"
    )
    assert rc == 2 and "version 4 was pushed without some sources" in err and "nope-data" in err


def test_push_rejects_bad_metadata_before_any_request(stub, tmp_path, capsys):
    nb = notebook(tmp_path / "t.ipynb")
    rc, _, err = cli(capsys, "push", nb, "--id", f"{USER}/uspppm-fold0", "--title", "Tiny")
    assert rc == 2 and "at least 5 characters" in err
    rc, _, err = cli(capsys, "push", nb, "--id", f"{USER}/abc")
    assert rc == 2 and "5+ characters" in err
    assert stub.calls == []


def test_folds_push_each_fold_then_inference_fed_by_them(stub, tmp_path, capsys):
    train, infer = (
        notebook(tmp_path / "10-train.ipynb"),
        notebook(tmp_path / "11-infer.ipynb", "model_dirs = []\ndata_dir = 'input'"),
    )
    stub.statuses = ["RUNNING", "RUNNING", "RUNNING", "COMPLETE"]
    rc, out, err = cli(
        capsys,
        "folds",
        "--notebook",
        train,
        "--inference",
        infer,
        "--id-prefix",
        f"{USER}/uspppm",
        "--folds",
        3,
        "--code-dataset",
        f"{USER}/kagglenlp-code",
        "--competition",
        COMP,
        "--internet",
        "--param",
        "model='microsoft/deberta-v3-small'",
        "--wait",
        "--interval",
        0.01,
        "--timeout",
        60,
    )
    assert rc == 0, err
    saves = stub.api("SaveKernel")
    ids = [f"{USER}/uspppm-fold{k}" for k in range(3)]
    assert [c.json["slug"] for c in saves] == ids + [f"{USER}/uspppm-infer"]
    for k, c in enumerate(saves[:3]):
        assert (
            code_cells(c.json["text"])[2]
            == f"# Parameters\nmodel = 'microsoft/deberta-v3-small'\nfolds = 3\nfold = {k}\n"
        )
        assert c.json["enableInternet"] is True and c.json.get("kernelDataSources", []) == []
    inf = saves[-1].json
    assert inf["enableInternet"] is False and inf["kernelDataSources"] == ids
    assert inf["datasetDataSources"] == [f"{USER}/kagglenlp-code"] and inf["competitionDataSources"] == [COMP]
    assert f"model_dirs = {[f'/kaggle/input/uspppm-fold{k}' for k in range(3)]!r}" in code_cells(inf["text"])[2]
    # the inference kernel was pushed only after every fold reported COMPLETE
    order = [c.method for c in stub.calls]
    assert order.index("GetKernelSessionStatus") > 2 and order[-1] == "SaveKernel"
    polls = [s for s in err.splitlines() if s.startswith("[")]
    assert "RUNNING" in polls[0] and polls[-1].count("COMPLETE") == 3


def test_folds_without_wait_push_only_folds_then_skip_folds_pushes_inference(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    args = ["folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2]
    rc, out, _ = cli(capsys, *args)
    assert rc == 0 and "--skip-folds" in out
    assert [c.json["slug"] for c in stub.api("SaveKernel")] == [f"{USER}/uspppm-fold0", f"{USER}/uspppm-fold1"]
    rc, _, _ = cli(capsys, *args, "--skip-folds")
    assert rc == 0 and stub.api("SaveKernel")[-1].json["kernelDataSources"] == [
        f"{USER}/uspppm-fold0",
        f"{USER}/uspppm-fold1",
    ]
    assert len(stub.api("SaveKernel")) == 3


def check_folds_dry_run(capsys, tmp_path, train, infer):
    "`folds --dry-run` writes each kernel folder: metadata, and the notebook with its parameters injected."
    rc, _, err = cli(
        capsys,
        "folds",
        "--notebook",
        train,
        "--inference",
        infer,
        "--id-prefix",
        f"{USER}/uspppm",
        "--folds",
        2,
        "--dir",
        tmp_path / "k",
        "--dry-run",
        "--code-dataset",
        f"{USER}/kagglenlp-code",
    )
    assert rc == 0, err
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["uspppm-fold0", "uspppm-fold1", "uspppm-infer"]
    for slug, key in [("uspppm-fold1", "fold = 1"), ("uspppm-infer", "model_dirs = ['/kaggle/input/uspppm-fold0'")]:
        meta = json.loads((tmp_path / "k" / slug / "kernel-metadata.json").read_text())
        assert meta["id"] == f"{USER}/{slug}" and meta["enable_internet"] is False
        assert meta["dataset_sources"] == [f"{USER}/kagglenlp-code"]
        nb = nbformat.read(tmp_path / "k" / slug / meta["code_file"], as_version=4)
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        i = next(i for i, t in enumerate(tags) if "parameters" in t)
        assert "injected-parameters" in tags[i + 1] and key in nb.cells[i + 1].source
        assert "kagglenlp-install" in tags[0]
        assert nb.metadata.kernelspec.name == "python3"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        nbformat.validate(nb)
    rc, _, err = cli(
        capsys,
        "folds",
        "--notebook",
        train,
        "--inference",
        infer,
        "--id-prefix",
        f"{USER}/uspppm",
        "--folds",
        2,
        "--dir",
        tmp_path / "k",
        "--dry-run",
    )
    assert rc == 2 and "not empty" in err and "--overwrite" in err  # nothing written is silently replaced
    (tmp_path / "k" / "uspppm-fold1" / "stale.txt").write_text("old")
    rc, _, err = cli(
        capsys, "folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2,
        "--dir", tmp_path / "k", "--dry-run", "--overwrite",
    )  # fmt: skip
    assert rc == 0, err  # the flag the error names re-runs the same command
    assert not (tmp_path / "k" / "uspppm-fold1" / "stale.txt").exists()
    (tmp_path / "k" / "uspppm-fold0").mkdir(exist_ok=True)
    for p in (tmp_path / "k" / "uspppm-fold0").iterdir():
        p.unlink()
    (tmp_path / "k" / "uspppm-fold0" / "mine.txt").write_text("mine")  # not a kernel folder: never deleted
    rc, _, err = cli(
        capsys, "folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2,
        "--dir", tmp_path / "k", "--dry-run", "--overwrite",
    )  # fmt: skip
    assert rc == 2 and "holds no kernel-metadata.json" in err
    assert (tmp_path / "k" / "uspppm-fold0" / "mine.txt").read_text() == "mine"


def test_a_failed_push_leaves_no_folder_that_blocks_the_retry(stub, tmp_path, capsys):
    nb, d = notebook(tmp_path / "t.ipynb"), tmp_path / "k" / "fold0"
    stub.replies["SaveKernel"] = {"error": "Notebook slug is reserved", "ref": "", "url": ""}
    rc, _, err = cli(capsys, "push", nb, "--id", f"{USER}/uspppm-fold0", "--dir", d)
    assert rc == 2 and "refused" in err and not d.exists()
    del stub.replies["SaveKernel"]
    rc, out, err = cli(capsys, "push", nb, "--id", f"{USER}/uspppm-fold0", "--dir", d)
    assert rc == 0 and "version 1" in out and (d / "kernel-metadata.json").is_file(), err


def test_dataset_overwrite_replaces_an_earlier_staging_only(tmp_path, capsys):
    argv = ["dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", tmp_path / "st", "--dry-run", "--project", ROOT]
    assert cli(capsys, *argv)[0] == 0
    (tmp_path / "st" / "kagglenlp-0.0.0-py3-none-any.whl").write_text("stale build")
    rc, _, err = cli(capsys, *argv)
    assert rc == 2 and "pass --overwrite" in err
    rc, _, err = cli(capsys, *argv, "--overwrite")
    assert rc == 0, err
    names = sorted(p.name for p in (tmp_path / "st").iterdir())
    assert names == ["dataset-metadata.json", f"kagglenlp-{ds.source_version(ROOT)}-py3-none-any.whl"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    rc, _, err = cli(capsys, *argv[:3], "--stage-dir", tmp_path / "other", "--dry-run", "--overwrite")
    assert rc == 2 and "choose another" in err and (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_folds_dry_run_writes_kernel_folders(stub, tmp_path, capsys):
    check_folds_dry_run(capsys, tmp_path, notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb"))
    assert stub.calls == []


def test_folds_dry_run_with_the_real_notebooks(tmp_path, capsys):
    train, infer = ROOT / "notebooks" / "10-patents-folds.ipynb", ROOT / "notebooks" / "11-patents-inference.ipynb"
    check_folds_dry_run(capsys, tmp_path, train, infer)


def test_status_wait_and_error(stub, capsys):
    stub.statuses = ["QUEUED", "RUNNING", "COMPLETE"]
    rc, out, err = cli(capsys, "status", f"{USER}/uspppm-fold0", "--wait", "--interval", 0.01)
    assert rc == 0 and f"{USER}/uspppm-fold0\tCOMPLETE" in out
    assert [s.split(": ")[-1] for s in err.strip().splitlines()] == ["QUEUED", "RUNNING", "COMPLETE"]
    stub.statuses = ["ERROR"]
    rc, _, err = cli(capsys, "status", f"{USER}/uspppm-fold0", "--wait", "--interval", 0.01)
    assert rc == 2 and "kernel failed" in err and "ERROR boom" in err
    rc, out, _ = cli(capsys, "status", f"{USER}/uspppm-fold0")
    assert rc == 1 and "ERROR\tboom" in out


def test_status_wait_times_out(stub, capsys):
    stub.statuses = ["RUNNING"]
    t = time.monotonic()
    rc, _, err = cli(capsys, "status", f"{USER}/uspppm-fold0", "--wait", "--interval", 0.2, "--timeout", 1)
    assert rc == 2 and re.search(r"timed out after (0\.\d|1|1\.\d) s", err) and time.monotonic() - t < 30


def test_output_downloads_files_and_refuses_non_empty_dir(stub, tmp_path, capsys):
    stub.files = {"submission.csv": b"id,score\na,0.5\n", "oof.csv": b"id,fold,pred,target\n"}
    d = tmp_path / "out"
    rc, out, err = cli(capsys, "output", f"{USER}/uspppm-infer", "--dir", d)
    assert rc == 0, err
    assert (d / "submission.csv").read_bytes() == stub.files["submission.csv"] and (d / "oof.csv").exists()
    assert (d / "uspppm-infer.log").exists() and str(d / "submission.csv") in out
    (d / "submission.csv").write_text("mine")
    rc, _, err = cli(capsys, "output", f"{USER}/uspppm-infer", "--dir", d)
    assert rc == 2 and "not empty" in err and (d / "submission.csv").read_text() == "mine"


# ---- code dataset ----------------------------------------------------------------------------
@pytest.mark.e2e  # subprocesses, real waits or training
def test_dataset_builds_stages_and_uploads_the_wheel(stub, tmp_path, capsys):
    stage = tmp_path / "stage"
    rc, out, err = cli(capsys, "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", stage, "--project", ROOT)
    assert rc == 0, err
    [whl] = stage.glob("kagglenlp-*.whl")
    assert sorted(p.name for p in stage.iterdir()) == ["dataset-metadata.json", whl.name]
    names = zipfile.ZipFile(whl).namelist()
    assert "kagglenlp/kaggle_tools/meta.py" in names and not any("__pycache__" in n for n in names)
    assert "kagglenlp/kaggle_tools/kaggle_image.toml" in names  # the image profile ships with the code
    assert [c.method for c in stub.calls if c.method] == ["GetDatasetStatus", "StartBlobUpload", "CreateDataset"]
    [start] = stub.api("StartBlobUpload")
    assert start.json["name"] == whl.name and start.json["contentLength"] == whl.stat().st_size
    [token] = stub.uploads
    assert stub.uploads[token] == whl.read_bytes()
    create = stub.api("CreateDataset")[0].json
    assert (create["ownerSlug"], create["slug"], create["licenseName"]) == (USER, "kagglenlp-code", "CC0-1.0")
    assert create["isPrivate"] is True and [f["token"] for f in create["files"]] == [token]
    assert "created dataset" in out and "--find-links /kaggle/input/kagglenlp-code" in out
    # what a kernel runs with the internet off installs from the staged folder alone
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            stage,
            "--no-deps",
            "--target",
            tmp_path / "site",
            "kagglenlp",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "site" / "kagglenlp" / "kaggle_tools" / "meta.py").read_bytes() == (
        ROOT / "src" / "kagglenlp" / "kaggle_tools" / "meta.py"
    ).read_bytes()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    "The kagglenlp wheel, built once."
    return ds.build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def test_existing_dataset_gets_a_new_version(stub, tmp_path, wheel):
    stub.replies["GetDatasetStatus"] = {"status": "READY"}
    stage = tmp_path / "stage"
    ds.stage(stage, dataset_meta(f"{USER}/kagglenlp-code"), [wheel])
    assert ds.upload(stage, notes="v2 notes") == "versioned"
    [ver] = stub.api("CreateDatasetVersion")
    assert ver.json["body"]["versionNotes"] == "v2 notes" and ver.json["datasetSlug"] == "kagglenlp-code"
    assert list(stub.uploads.values()) == [wheel.read_bytes()] and not stub.api("CreateDataset")


def test_dataset_error_from_server_is_a_failure(stub, tmp_path, wheel):
    stub.replies["CreateDataset"] = {"status": "error", "error": "Quota exceeded", "ref": "", "url": ""}
    stage = tmp_path / "stage"
    ds.stage(stage, dataset_meta(f"{USER}/kagglenlp-code"), [wheel])
    with pytest.raises(KaggleError, match="Quota exceeded"):
        ds.upload(stage)


def test_dataset_refuses_credentials_before_any_request(stub, tmp_path, capsys):
    leak = tmp_path / "kaggle.json"
    leak.write_text(json.dumps({"username": USER, "key": "x"}))
    notes = tmp_path / "notes.txt"
    notes.write_text(f"my key is {os.environ['KAGGLE_KEY']}")
    for f in (leak, notes):
        rc, _, err = cli(
            capsys,
            "dataset",
            "--id",
            f"{USER}/kagglenlp-code",
            "--stage-dir",
            tmp_path / f"st-{f.stem}",
            "--extra",
            f,
            "--project",
            ROOT,
        )
        assert rc == 2 and "refusing to upload credentials" in err and str(f) in err
        assert not (tmp_path / f"st-{f.stem}").exists()
    assert stub.calls == []


def test_dataset_with_deps_downloads_wheels_for_kaggle_offline(stub, tmp_path, wheel, capsys, monkeypatch):
    # stands in for PyPI: `pip download` reads a local folder holding one tiny pure-python wheel
    idx = tmp_path / "index"
    idx.mkdir()
    dep = idx / "tinydep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(dep, "w") as z:
        z.writestr("tinydep/__init__.py", "")
        z.writestr("tinydep-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n")
        z.writestr(
            "tinydep-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr("tinydep-1.0.dist-info/RECORD", "")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(idx))
    stage = tmp_path / "stage"
    rc, _, err = cli(
        capsys,
        "dataset",
        "--id",
        f"{USER}/kagglenlp-code",
        "--stage-dir",
        stage,
        "--project",
        ROOT,
        "--deps",
        "tinydep",
        "--dry-run",
    )
    assert rc == 0, err
    assert sorted(p.name for p in stage.glob("*.whl")) == sorted([wheel.name, dep.name])
    assert stub.calls == []  # --dry-run uploads nothing


# ---- submissions -----------------------------------------------------------------------------
@pytest.fixture
def sub_files(tmp_path):
    sample = pd.DataFrame({"id": ["a", "b", "c"], "score": [0.5] * 3})
    sample.to_csv(tmp_path / "sample_submission.csv", index=False)
    sample.assign(score=[0.1, 0.75, 1.0]).to_csv(tmp_path / "submission.csv", index=False)
    sample.assign(score=[0.1, 1.5, 1.0]).to_csv(tmp_path / "bad.csv", index=False)
    return tmp_path


def test_submit_file_checked_then_uploaded(stub, sub_files, capsys):
    f = sub_files / "submission.csv"
    rc, out, err = cli(
        capsys, "submit", "-c", COMP, "-f", f, "-m", "deberta 5 folds", "--sample", sub_files / "sample_submission.csv"
    )
    assert rc == 0, err
    [start] = stub.api("StartSubmissionUpload")
    assert start.json["competitionName"] == COMP and start.json["fileName"] == "submission.csv"
    [(tok, data)] = stub.uploads.items()
    assert data == f.read_bytes()
    [create] = stub.api("CreateSubmission")
    assert create.json["blobFileTokens"] == tok and create.json["submissionDescription"] == "deberta 5 folds"
    assert "Successfully submitted" in out


def test_submit_file_that_fails_the_checks_is_never_sent(stub, sub_files, capsys):
    rc, _, err = cli(
        capsys,
        "submit",
        "-c",
        COMP,
        "-f",
        sub_files / "bad.csv",
        "-m",
        "x",
        "--sample",
        sub_files / "sample_submission.csv",
    )
    assert rc == 2 and "outside [0.0, 1.0]" in err
    rc, _, err = cli(
        capsys, "submit", "-c", COMP, "-f", sub_files / "submission.csv", "-m", "x", "--sample", sub_files / "nope.csv"
    )
    assert rc == 2 and "sample submission not found" in err
    assert stub.calls == []


def test_submit_code_competition_sends_kernel_and_version(stub, capsys):
    rc, out, err = cli(capsys, "submit", "-c", COMP, "-k", f"{USER}/uspppm-infer", "-v", 3, "-m", "5-fold deberta")
    assert rc == 0, err
    [c] = stub.api("CreateCodeSubmission")
    assert (c.json["competitionName"], c.json["kernelSlug"], c.json["kernelVersion"], c.json["fileName"]) == (
        COMP,
        "uspppm-infer",
        3,
        "submission.csv",
    )
    assert c.json["kernelOwner"] == USER and c.json["submissionDescription"] == "5-fold deberta"
    rc, _, err = cli(capsys, "submit", "-c", COMP, "-k", f"{USER}/uspppm-infer", "-m", "no version")
    assert rc == 2 and "both --kernel and --version" in err
    assert len(stub.api("CreateCodeSubmission")) == 1


def test_submit_server_refusal_is_a_failure(stub, capsys):
    stub.replies["CreateCodeSubmission"] = (400, {"code": 400, "message": "Submission limit reached"})
    rc, _, err = cli(capsys, "submit", "-c", COMP, "-k", f"{USER}/uspppm-infer", "-v", 1, "-m", "x")
    assert rc == 2 and "Submission limit reached" in err


@pytest.mark.e2e  # subprocesses, real waits or training
def test_script_entry_point_runs_the_same_command(stub, sub_files):
    env = {**os.environ}
    r = subprocess.run(
        [
            sys.executable,
            ROOT / "scripts" / "kaggle_submit.py",
            "-c",
            COMP,
            "-f",
            sub_files / "submission.csv",
            "-m",
            "from script",
            "--sample",
            sub_files / "sample_submission.csv",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert stub.api("CreateSubmission")[0].json["submissionDescription"] == "from script"


# ---- failures: credentials, network ----------------------------------------------------------
def test_missing_credentials_say_how_and_send_nothing(tmp_path, monkeypatch, capsys, sub_files):
    with KaggleStub() as s:
        set_env(monkeypatch, tmp_path, s.proxy, username=None, key=None)
        rc, _, err = cli(capsys, "submit", "-c", COMP, "-k", f"{USER}/uspppm-infer", "-v", 1, "-m", "x")
        assert rc == 2 and "no Kaggle credentials found" in err and "KAGGLE_API_TOKEN" in err
        rc, _, err = cli(capsys, "status", f"{USER}/uspppm-fold0")
        assert rc == 2 and "no Kaggle credentials found" in err
        # and the kaggle CLI's own refusal (were our check bypassed) is an error too
        t = time.monotonic()
        with pytest.raises(KaggleError, match="failed"):
            kaggle("kernels", "status", f"{USER}/uspppm-fold0", timeout=60)
        assert time.monotonic() - t < 60
        assert s.calls == []


@pytest.mark.parametrize("source", ["api_token", "config_dir"])
def test_other_credential_sources_reach_the_server(source, tmp_path, monkeypatch, capsys):
    with KaggleStub() as s:
        set_env(monkeypatch, tmp_path, s.proxy, username=None, key=None)
        if source == "api_token":
            monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_" + "5e" * 16)
        else:
            (tmp_path / "kcfg" / "kaggle.json").write_text(json.dumps({"username": USER, "key": "9" * 32}))
            (tmp_path / "kcfg" / "kaggle.json").chmod(0o600)
        rc, out, err = cli(capsys, "status", f"{USER}/uspppm-fold0")
        assert rc == 0, err
        [st] = s.api("GetKernelSessionStatus")
        auth = st.headers.get("Authorization", "")
        assert auth == "Bearer KGAT_" + "5e" * 16 if source == "api_token" else auth.startswith("Basic ")


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def test_refused_connection_fails_fast(tmp_path, monkeypatch, capsys):
    set_env(monkeypatch, tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    t = time.monotonic()
    rc, _, err = cli(capsys, "push", notebook(tmp_path / "t.ipynb"), "--id", f"{USER}/uspppm-fold0", "--timeout", 60)
    assert rc == 2 and "failed" in err and "Connection" in err
    rc, _, err = cli(capsys, "submit", "-c", COMP, "-k", f"{USER}/uspppm-infer", "-v", 1, "-m", "x", "--timeout", 60)
    assert rc == 2 and "Connection" in err
    assert time.monotonic() - t < 90


@pytest.mark.e2e  # subprocesses, real waits or training
def test_retrying_upload_is_cut_off_by_the_timeout(stub, tmp_path, wheel):
    stub.replies["StartBlobUpload"] = (429, {"code": 429, "message": "slow down"})  # the CLI backs off and retries
    stage = tmp_path / "stage"
    ds.stage(stage, dataset_meta(f"{USER}/kagglenlp-code"), [wheel])
    t = time.monotonic()
    with pytest.raises(KaggleError, match="no answer after 4 s"):
        kaggle("datasets", "version", "-p", stage, "-m", "x", "--dir-mode", "zip", timeout=4)
    assert time.monotonic() - t < 20 and len(stub.api("StartBlobUpload")) >= 2


# ---- issue 7: what arrives for each fix ------------------------------------------------------
def injected(text):
    "The parameters a pushed notebook's injected cell sets (run as Python)."
    nb = json.loads(text)
    [cell] = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    ns = {}
    exec(cell["source"], ns)
    return {k: v for k, v in ns.items() if not k.startswith("__")}


def test_gpu_defaults_to_t4_machine_shape(stub, tmp_path, capsys):
    nb = notebook(tmp_path / "t.ipynb")
    rc, out, err = cli(capsys, "push", nb, "--id", f"{USER}/uspppm-fold0", "--gpu")
    assert rc == 0, err
    assert f"kagglenlp kaggle status {USER}/uspppm-fold0/1 --wait" in out  # how to follow the version just pushed
    rc, _, err = cli(capsys, "push", nb, "--id", f"{USER}/uspppm-cpu0")
    assert rc == 0, err
    gpu, cpu = (c.json for c in stub.api("SaveKernel"))
    assert gpu["machineShape"] == "NvidiaTeslaT4" and gpu["enableGpu"] is True
    assert not cpu.get("machineShape") and cpu["enableGpu"] is False


def test_folds_accelerator_reaches_every_kernel_and_dry_run_metadata(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    base = ["folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2]
    rc, _, err = cli(capsys, *base, "--gpu", "--dir", tmp_path / "t4", "--dry-run")
    assert rc == 0, err
    rc, _, err = cli(capsys, *base, "--accelerator", "NvidiaL4", "--dir", tmp_path / "l4", "--dry-run")
    assert rc == 0, err
    for d, shape in (("t4", "NvidiaTeslaT4"), ("l4", "NvidiaL4")):
        for slug in ("uspppm-fold0", "uspppm-fold1", "uspppm-infer"):
            meta = json.loads((tmp_path / d / slug / "kernel-metadata.json").read_text())
            assert meta["machine_shape"] == shape and meta["enable_gpu"] is True
    rc, _, err = cli(capsys, *base, "--accelerator", "NvidiaTeslaP100")
    assert rc == 2 and "P100" in err and "NvidiaTeslaT4" in err
    rc, _, err = cli(capsys, *base, "--gpu")
    assert rc == 0, err
    assert [c.json["machineShape"] for c in stub.api("SaveKernel")] == ["NvidiaTeslaT4"] * 2  # the pushes, too


def test_folds_inject_every_split_setting_into_every_fold_kernel(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    base = ["folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm"]
    params = ["--param", "split=time", "seed=7", "settings={'max_rows': 300, 'gap': 2, 'epochs': 1}"]
    rc, _, err = cli(capsys, *base, "--folds", 3, *params)
    assert rc == 0, err
    got = [injected(c.json["text"]) for c in stub.api("SaveKernel")]
    assert [g["fold"] for g in got] == [0, 1, 2]
    for g in got:
        assert (g["folds"], g["split"], g["seed"], g["settings"]) == (
            3,
            "time",
            7,
            {"max_rows": 300, "gap": 2, "epochs": 1},
        )
    for bad, msg in (
        (["--param", "folds=5"], "--param folds"),
        (["--param", "fold=1"], "--param fold"),
        (["--param", "settings={'folds': 4}"], "own"),
    ):
        rc, _, err = cli(capsys, *base, "--folds", 3, *bad)
        assert rc == 2 and msg in err, err
    assert len(stub.api("SaveKernel")) == 3  # the refused ones sent nothing


@pytest.mark.e2e  # subprocesses, real waits or training
def test_status_wait_is_bounded_when_the_server_never_answers(stub, capsys):
    stub.replies["GetKernelSessionStatus"] = stub.hang
    t = time.monotonic()
    rc, _, err = cli(capsys, "status", f"{USER}/uspppm-fold0", "--wait", "--timeout", 4, "--interval", 1)
    took = time.monotonic() - t
    assert rc == 2 and re.search(r"timed out after [3-9](\.\d)? s", err) and took < 4 + 8, (took, err)
    t = time.monotonic()
    rc, _, err = cli(capsys, "status", f"{USER}/uspppm-fold0", f"{USER}/uspppm-fold1", "--timeout", 3)
    took = time.monotonic() - t
    assert rc == 2 and "3 s" in err and took < 3 + 8, (took, err)


@pytest.mark.e2e  # subprocesses, real waits or training
def test_folds_push_is_bounded_by_the_command_timeout(stub, tmp_path, capsys):
    stub.replies["SaveKernel"] = stub.hang
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    t = time.monotonic()
    rc, _, err = cli(
        capsys,
        "folds",
        "--notebook",
        train,
        "--inference",
        infer,
        "--id-prefix",
        f"{USER}/uspppm",
        "--folds",
        2,
        "--wait",
        "--timeout",
        4,
    )
    took = time.monotonic() - t
    assert rc == 2 and took < 4 + 8, (took, err)
    assert len(stub.api("SaveKernel")) == 1  # the first push used up the time; no second one started


def test_wait_after_a_repush_follows_the_new_version(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    args = ["folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2]
    rc, _, err = cli(capsys, *args)  # version 1 of each fold kernel
    assert rc == 0, err
    stub.statuses = ["COMPLETE"]  # what the kernels' latest finished version says
    stub.version_statuses = {"v2": ["RUNNING", "RUNNING", "COMPLETE"]}
    rc, _, err = cli(capsys, *args, "--wait", "--interval", 0.01, "--timeout", 60)
    assert rc == 0, err
    polls = stub.api("GetKernelSessionStatus")
    assert {c.json.get("versionLabel") for c in polls} == {"v2"}
    assert [c.json["kernelSlug"] for c in polls[:2]] == ["uspppm-fold0", "uspppm-fold1"]
    lines = [s for s in err.splitlines() if s.startswith("[")]
    assert f"{USER}/uspppm-fold0/2: RUNNING" in lines[0] and lines[-1].count("COMPLETE") == 2
    order = [c.method for c in stub.calls if c.method in ("SaveKernel", "GetKernelSessionStatus")]
    assert order[-1] == "SaveKernel" and order.index("GetKernelSessionStatus") == 4  # infer pushed after v2 finished


def test_submit_refuses_a_bom_and_compares_ids_as_text(stub, tmp_path, capsys):
    sample = tmp_path / "sample_submission.csv"
    sample.write_text("id,score\n001,0\n002,0\n")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfid,score\n001,0.5\n002,0.25\n")
    numeric = tmp_path / "numeric.csv"
    numeric.write_text("id,score\n1,0.5\n2,0.25\n")
    rc, _, err = cli(capsys, "submit", "-c", COMP, "-f", bom, "-m", "x", "--sample", sample)
    assert rc == 2 and "byte-order mark" in err and str(bom) in err
    rc, _, err = cli(capsys, "submit", "-c", COMP, "-f", numeric, "-m", "x", "--sample", sample)
    assert rc == 2 and "'001'" in err and "missing" in err
    assert stub.calls == []


def test_submit_accepts_another_row_order_and_sends_the_file_unchanged(stub, tmp_path, capsys):
    sample = tmp_path / "sample_submission.csv"
    sample.write_text("id,score\na,0\nb,0\nc,0\n")
    f = tmp_path / "submission.csv"
    f.write_text("id,score\nc,1.0\na,0.5\nb,0.25\n")
    rc, _, err = cli(capsys, "submit", "-c", COMP, "-f", f, "-m", "shuffled", "--sample", sample)
    assert rc == 0, err
    assert "another order" in err and "matches rows by id" in err
    assert list(stub.uploads.values()) == [f.read_bytes()]


# ---- issue 7, fix 6: which checkout is packaged, and credentials named where they are -----------
def copy_project(dest, marker="copied"):
    "A copy of this checkout's packaging files and src/kagglenlp, with a module telling it apart."
    dest.mkdir()
    for n in ("pyproject.toml", "README.md"):
        (dest / n).write_bytes((ROOT / n).read_bytes())
    import shutil

    shutil.copytree(
        ROOT / "src" / "kagglenlp", dest / "src" / "kagglenlp", ignore=shutil.ignore_patterns("__pycache__")
    )
    (dest / "src" / "kagglenlp" / "_marker.py").write_text(f"WHICH = {marker!r}\n")
    return dest


def test_dataset_packages_the_checkout_in_the_current_folder(stub, tmp_path, capsys, monkeypatch):
    proj = copy_project(tmp_path / "mine")
    monkeypatch.chdir(proj / "src")  # anywhere inside the checkout
    rc, _, err = cli(capsys, "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", tmp_path / "st", "--dry-run")
    assert rc == 0, err
    assert f"packaging the kagglenlp checkout at {proj}" in err
    [whl] = (tmp_path / "st").glob("kagglenlp-*.whl")
    assert zipfile.ZipFile(whl).read("kagglenlp/_marker.py") == b"WHICH = 'copied'\n"
    monkeypatch.chdir(tmp_path)
    rc, _, err = cli(capsys, "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", tmp_path / "st2", "--dry-run")
    assert rc == 2 and "not inside a kagglenlp checkout" in err and "--project" in err
    assert not (tmp_path / "st2").exists()


def test_dataset_refuses_credentials_in_the_package_naming_the_users_file(stub, tmp_path, capsys):
    proj = copy_project(tmp_path / "mine")
    leak = proj / "src" / "kagglenlp" / "kaggle.json"
    leak.write_text(json.dumps({"username": USER, "key": "x"}))  # setuptools would leave it out of the wheel silently
    rc, _, err = cli(
        capsys, "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", tmp_path / "st", "--project", proj
    )
    assert rc == 2 and "refusing to upload credentials" in err and f"{leak}:" in err
    leak.unlink()
    mod = proj / "src" / "kagglenlp" / "settings_local.py"
    mod.write_text(f"KEY = '{os.environ['KAGGLE_KEY']}'\n")
    rc, _, err = cli(
        capsys, "dataset", "--id", f"{USER}/kagglenlp-code", "--stage-dir", tmp_path / "st", "--project", proj
    )
    assert rc == 2 and f"{mod}:" in err and "configured Kaggle credential" in err
    assert os.environ["KAGGLE_KEY"] not in err and "kagglenlp-wheel-" not in err  # no temporary copy named
    assert not (tmp_path / "st").exists() and stub.calls == []


# ---- waits that survive a real server, failures that show why --------------------------------
@pytest.mark.e2e  # subprocesses, real waits or training
def test_status_wait_survives_transient_server_errors(stub, capsys):
    stub.failures["GetKernelSessionStatus"] = [(500, {"code": 500, "message": "Internal error"})] * 2 + [
        (429, {"code": 429, "message": "slow down"}, {"Retry-After": "1"})
    ]
    stub.statuses = ["RUNNING", "COMPLETE"]
    rc, out, err = cli(capsys, "status", f"{USER}/uspppm-fold0", "--wait", "--interval", 0.01, "--timeout", 60)
    assert rc == 0 and f"{USER}/uspppm-fold0\tCOMPLETE" in out, err
    assert err.count("retrying in") == 3 and "problem on Kaggle's side" in err and "rate limited" in err
    assert len(stub.api("GetKernelSessionStatus")) == 5


@pytest.mark.e2e  # subprocesses, real waits or training
def test_status_wait_gives_up_on_a_failing_server_within_the_timeout(stub, capsys):
    stub.failures["GetKernelSessionStatus"] = [(503, {"code": 503, "message": "Unavailable"})] * 50
    t = time.monotonic()
    rc, _, err = cli(capsys, "status", f"{USER}/uspppm-fold0", "--wait", "--interval", 1, "--timeout", 5)
    assert rc == 2 and "timed out after" in err and "the server kept failing" in err and time.monotonic() - t < 20


@pytest.mark.e2e  # subprocesses, real waits or training
def test_folds_wait_that_gives_up_says_how_to_continue(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    stub.statuses = ["RUNNING"]
    rc, _, err = cli(
        capsys, "folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2,
        "--wait", "--interval", 0.5, "--timeout", 8,
    )  # fmt: skip
    assert rc == 2 and "timed out after" in err and "--skip-folds" in err
    assert f"kagglenlp kaggle status {USER}/uspppm-fold0/1 {USER}/uspppm-fold1/1 --wait" in err
    assert [c.json["slug"] for c in stub.api("SaveKernel")] == [f"{USER}/uspppm-fold0", f"{USER}/uspppm-fold1"]


def test_skip_folds_checks_every_fold_is_complete_first(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    base = ["folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 3]
    assert cli(capsys, *base)[0] == 0  # version 1 of each fold kernel, recorded at its push
    stub.slug_statuses = {"uspppm-fold1": ["RUNNING"], "uspppm-fold2": ["ERROR"]}
    rc, _, err = cli(capsys, *base, "--skip-folds")
    assert rc == 2 and "2 of 3 are not" in err
    for k, s in enumerate(("COMPLETE", "RUNNING", "ERROR")):
        assert f"{USER}/uspppm-fold{k}/1: {s}" in err
    assert len(stub.api("SaveKernel")) == 3
    stub.slug_statuses = {}
    rc, out, err = cli(capsys, *base, "--skip-folds")
    assert rc == 0, err
    assert [c.json["slug"] for c in stub.api("SaveKernel")][3:] == [f"{USER}/uspppm-infer"]


def test_skip_folds_after_a_repush_follows_the_new_version(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    base = ["folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2]
    assert cli(capsys, *base)[0] == 0 and cli(capsys, *base)[0] == 0  # pushed twice: version 2 is the one to use
    stub.statuses = ["COMPLETE"]  # the plain slug: what the previous version finished with
    stub.version_statuses = {"v2": ["RUNNING", "RUNNING", "COMPLETE"]}
    n = len(stub.calls)
    rc, _, err = cli(capsys, *base, "--skip-folds")
    assert rc == 2 and f"{USER}/uspppm-fold0/2: RUNNING" in err and len(stub.api("SaveKernel")) == 4
    assert {c.json.get("versionLabel") for c in stub.calls[n:] if c.method == "GetKernelSessionStatus"} == {"v2"}
    rc, _, err = cli(capsys, *base, "--skip-folds", "--wait", "--interval", 0.01, "--timeout", 60)
    assert rc == 0, err  # waited for version 2, then pushed the inference kernel
    assert f"{USER}/uspppm-fold1/2: COMPLETE" in err and stub.calls[-1].method == "SaveKernel"
    assert {c.json.get("versionLabel") for c in stub.calls[n:] if c.method == "GetKernelSessionStatus"} == {"v2"}


def test_skip_folds_without_a_recorded_push_needs_the_versions(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    base = ["folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2]
    rc, _, err = cli(capsys, *base, "--skip-folds")  # pushed from another machine: which version is unknown
    assert rc == 2 and "no push of stubuser/uspppm-fold0, stubuser/uspppm-fold1 is recorded" in err
    assert "--fold-version" in err and stub.calls == []
    rc, _, err = cli(capsys, *base, "--skip-folds", "--fold-version", 7)
    assert rc == 2 and "one version per fold kernel (2), got 1" in err and stub.calls == []
    rc, _, err = cli(capsys, *base, "--skip-folds", "--fold-version", 7, "--fold-version", 3)
    assert rc == 0, err
    asked = [c.json.get("versionLabel") for c in stub.api("GetKernelSessionStatus")]
    assert asked == ["v7", "v3"] and len(stub.api("SaveKernel")) == 1


def test_a_failed_kernel_shows_the_end_of_its_log(stub, capsys):
    lines = [f"step {i}\n" for i in range(40)] + ["Traceback (most recent call last):\n", "ValueError: bad fold\n"]
    stub.log = json.dumps([{"stream_name": "stderr", "data": s} for s in lines])
    stub.statuses = ["ERROR"]
    rc, _, err = cli(capsys, "status", f"{USER}/uspppm-fold0", "--wait", "--interval", 0.01)
    assert rc == 2 and "kernel failed" in err and f"last lines of the log of {USER}/uspppm-fold0" in err
    assert "ValueError: bad fold" in err and "step 39" in err and "step 5\n" not in err
    assert stub.api("ListKernelSessionOutput")[0].json["kernelSlug"] == "uspppm-fold0"


def test_quota_shows_the_gpu_hours_left(stub, capsys):
    rc, out, err = cli(capsys, "quota")
    assert rc == 0, err
    assert "GPU" in out and "20.00h" in out and "30.00h" in out and stub.api("GetAcceleratorQuotaStatistics")


# ---- Kaggle Models ----------------------------------------------------------------------------
def test_model_upload_creates_the_model_then_adds_versions(stub, tmp_path, capsys):
    d = tmp_path / "fold0"
    d.mkdir()
    (d / "config.json").write_text('{"model_type": "bert"}')
    (d / "model.safetensors").write_bytes(b"\0weights" * 100)
    (d / "tokenizer.json").write_text("{}")
    rc, out, err = cli(capsys, "model-upload", d, "--id", f"{USER}/uspppm-minilm", "--variation", "fold0")
    assert rc == 0, err
    assert f"attach it with --model {USER}/uspppm-minilm/transformers/fold0/VERSION" in out
    made = [(m["method"], m.get("slug") or m.get("modelSlug")) for m in stub.models]
    assert made == [("CreateModel", "uspppm-minilm"), ("CreateModelInstance", "uspppm-minilm")]
    assert stub.models[0]["isPrivate"] is True
    assert sorted(stub.uploads.values()) == sorted([b"{}", b'{"model_type": "bert"}', b"\0weights" * 100])
    assert sorted(p.name for p in d.iterdir()) == ["config.json", "model.safetensors", "tokenizer.json"]  # untouched
    rc, out, err = cli(capsys, "model-upload", d, "--id", f"{USER}/uspppm-minilm", "--variation", "fold0")
    assert rc == 0 and f"added a version to {USER}/uspppm-minilm/transformers/fold0" in out, err
    assert [m["method"] for m in stub.models][-1] == "CreateModelInstanceVersion"
    (d / "model.safetensors").unlink()
    rc, _, err = cli(capsys, "model-upload", d, "--id", f"{USER}/uspppm-minilm")
    assert rc == 2 and "has no weights" in err


def test_model_sources_reach_fold_and_inference_kernels(stub, tmp_path, capsys):
    train, infer = notebook(tmp_path / "train.ipynb"), notebook(tmp_path / "infer.ipynb")
    src = f"{USER}/uspppm-minilm/transformers/fold0/2"
    rc, _, err = cli(
        capsys, "folds", "--notebook", train, "--inference", infer, "--id-prefix", f"{USER}/uspppm", "--folds", 2,
        "--model", src, "--dir", tmp_path / "k", "--dry-run",
    )  # fmt: skip
    assert rc == 0, err
    for slug in ("uspppm-fold0", "uspppm-infer"):
        assert json.loads((tmp_path / "k" / slug / "kernel-metadata.json").read_text())["model_sources"] == [src]
