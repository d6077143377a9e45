"""The experiment core of both pipelines: resume-or-refuse, fingerprints, the lock, atomic writes, results rows."""

import dataclasses
import json
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from kagglenlp.errors import UserError
from kagglenlp.experiment import fingerprint, open_experiment, settings_diff
from kagglenlp.files import check_writable, write_csv, write_json
from kagglenlp.results_table import RESULT_KEYS, append_result, read_results

DATA = fingerprint(train=pd.DataFrame({"id": ["a", "b"], "score": [0.0, 1.0]}))


def test_new_then_resume_then_refuse_changed_setting(proj):
    s = {"lr": 1e-4, "epochs": 1, "threads": 2}
    with open_experiment("e", "patents", s, DATA, ignore=("threads",)) as exp:
        assert not exp.resumed and exp.dir == proj / "outputs" / "e"
        (exp.dir / "model.bin").write_text("weights")
    with open_experiment("e", "patents", {**s, "threads": 8}, DATA, ignore=("threads",)) as exp:
        assert exp.resumed  # an ignored setting may change
    with pytest.raises(UserError, match=r"other settings \(lr: 0.0001 -> 0.001\).*--overwrite"):
        open_experiment("e", "patents", {**s, "lr": 1e-3}, DATA, ignore=("threads",))
    assert (proj / "outputs" / "e" / "model.bin").read_text() == "weights"


def test_a_setting_added_later_is_compared_by_default(proj):
    "A new dataclass field is part of the resume check without anyone listing it."

    @dataclasses.dataclass
    class Old:
        lr: float = 1e-4

    New = dataclasses.make_dataclass("New", [("head_lr", float, dataclasses.field(default=1e-3))], bases=(Old,))
    with open_experiment("e", "imdb", dataclasses.asdict(Old()), DATA):
        pass
    with pytest.raises(UserError, match=r"head_lr: None -> 0.001"):
        open_experiment("e", "imdb", dataclasses.asdict(New()), DATA)
    assert settings_diff({"a": (1, 2)}, {"a": [1, 2]}) == []  # as saved in JSON


def test_changed_data_is_refused_and_overwrite_starts_over(proj):
    with open_experiment("e", "patents", {"lr": 1}, DATA, also=[proj / "submissions" / "e.csv"]) as exp:
        (exp.dir / "fold0").mkdir()
    (proj / "submissions").mkdir()
    (proj / "submissions" / "e.csv").write_text("old")
    edited = fingerprint(train=pd.DataFrame({"id": ["a", "b"], "score": [0.25, 1.0]}))  # same ids, new scores
    with pytest.raises(UserError, match=r"input data of experiment 'e' changed since it was started \(train\)"):
        open_experiment("e", "patents", {"lr": 1}, edited)
    assert (proj / "outputs" / "e" / "fold0").is_dir()
    with open_experiment("e", "patents", {"lr": 1}, edited, overwrite=True, also=[proj / "submissions" / "e.csv"]):
        pass
    assert not (proj / "outputs" / "e" / "fold0").exists() and not (proj / "submissions" / "e.csv").exists()
    rec = json.loads((proj / "outputs" / "e" / "experiment.json").read_text())
    assert rec["data"] == edited and rec["pipeline"] == "patents"


def test_refuses_unknown_folder_and_leftover_submission(proj):
    (proj / "outputs" / "x").mkdir(parents=True)
    (proj / "outputs" / "x" / "stuff").write_text("")
    with pytest.raises(UserError, match="holds no experiment.json"):
        open_experiment("x", "patents", {}, DATA)
    (proj / "submissions").mkdir()
    (proj / "submissions" / "y.csv").write_text("mine")
    with pytest.raises(UserError, match="y.csv exists from an earlier run"):
        open_experiment("y", "patents", {}, DATA, also=[proj / "submissions" / "y.csv"])
    assert not (proj / "outputs" / "y").exists()
    with pytest.raises(UserError, match="plain folder name"):
        open_experiment("../z", "patents", {}, DATA)


def test_second_run_refused_while_first_holds_the_lock(proj):
    with open_experiment("e", "patents", {"lr": 1}, DATA):
        with pytest.raises(UserError, match=r"being written by another run \(pid \d+"):
            open_experiment("e", "patents", {"lr": 2}, DATA)
    with open_experiment("e", "patents", {"lr": 1}, DATA) as exp:  # released on exit
        assert exp.resumed


def test_lock_of_a_killed_run_does_not_block(proj):
    "A process killed while holding the lock (SIGKILL: no cleanup) leaves no stale lock."
    code = textwrap.dedent("""
        import os, signal
        from kagglenlp.experiment import fingerprint, open_experiment
        exp = open_experiment("e", "patents", {"lr": 1}, fingerprint(x=1))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=proj, timeout=60)
    assert r.returncode == -9 and (proj / "outputs" / ".locks" / "e.lock").exists()
    with open_experiment("e", "patents", {"lr": 1}, fingerprint(x=1)) as exp:
        assert exp.resumed


def test_fingerprint_is_content_based(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("id,score\n1,0.5\n")
    a = fingerprint(train=f)
    f.write_text("id,score\n1,0.75\n")
    b = fingerprint(train=f)
    assert a["train"] != b["train"] and a["all"] != b["all"]
    d = tmp_path / "dir"
    d.mkdir()
    (d / "x.txt").write_text("1")
    c = fingerprint(texts=d)
    (d / "x.txt").write_text("2")
    assert fingerprint(texts=d) != c
    assert fingerprint(v={"a": 1}) == fingerprint(v={"a": 1})


def test_atomic_writes_leave_no_temp_files(tmp_path):
    write_json({"a": 1}, tmp_path / "x.json")
    write_csv(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    with pytest.raises(ZeroDivisionError):  # a failing writer leaves the old file whole
        from kagglenlp.files import atomic_path

        with atomic_path(tmp_path / "x.json") as tmp:
            tmp.write_text("half")
            raise ZeroDivisionError
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.json"]


def test_results_rows_have_one_shape(proj):
    append_result("a", "patents", "pearson", 0.5, model="minilm")
    append_result("b", "imdb", "accuracy", 0.8, accuracy_fwd=0.8)
    rows = read_results()
    assert list(rows[0])[:5] == RESULT_KEYS and list(rows[1])[:5] == RESULT_KEYS
    assert [r["pipeline"] for r in rows] == ["patents", "imdb"] and rows[1]["accuracy_fwd"] == "0.8"
    assert rows[0]["model"] == "minilm" and rows[0]["accuracy_fwd"] == ""


def test_check_writable(tmp_path, monkeypatch):
    check_writable(tmp_path / "new" / "deeper")  # nearest existing parent is writable
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="is not a folder"):
        check_writable(tmp_path / "file" / "sub")
    import pathlib

    def deny(self, *a, **k):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "write_text", deny)
    with pytest.raises(UserError, match="cannot write under .*Permission denied"):
        check_writable(tmp_path)
