"""Issue 18's bad inputs and faults outside the patents models: each is one clear `error:` line or `note:`, never a
silent wrong result, a traceback or a record left behind (fast: no training)."""

import errno
import os
import sys

import pandas as pd
import pytest
from helpers import IMDB_TINY, one_error_line

from kagglenlp import experiment, files, results_table
from kagglenlp.cli import error_message, main
from kagglenlp.errors import UserError
from kagglenlp.experiment import check_experiment, fingerprint, open_experiment
from kagglenlp.files import read_csv_text, saving, write_json
from kagglenlp.imdb import data as imdb_data
from kagglenlp.imdb.toy import write_toy_csv
from kagglenlp.patents.data import load_competition
from kagglenlp.patents.inputs import context_titles, load_titles
from kagglenlp.results_table import read_results

# ---------------------------------------------------------------- IMDb CSV: is_valid and labels (item 3)


def _imdb_csv(path, is_valid, label=None):
    "A labelled CSV of len(is_valid) rows, alternating pos/neg unless `label` is given."
    n = len(is_valid)
    label = label or ["pos" if i % 2 else "neg" for i in range(n)]
    pd.DataFrame(dict(label=label, text=[f"review {i}" for i in range(n)], is_valid=is_valid)).to_csv(path, index=False)
    return path


def test_is_valid_parsed_strictly(tmp_path):
    words = ["True", "false", "1", "0", "YES", "no", "Yes", "No"]
    df = imdb_data.read_texts(_imdb_csv(tmp_path / "w.csv", words))
    assert df.is_valid.tolist() == [True, False, True, False, True, False, True, False]
    assert (df.split == df.is_valid.map({True: "test", False: "train"})).all()


@pytest.mark.parametrize(
    "cells,row,shown",
    [
        (["True", "", "False", "False"], 3, "''"),  # astype(bool) made a blank cell a validation row
        (["yes", "no", "maybe", "no"], 4, "'maybe'"),  # and `no` a validation row too
    ],
)
def test_is_valid_blank_or_unknown_refused(tmp_path, cells, row, shown):
    csv = tmp_path / "b.csv"
    csv.write_text("label,text,is_valid\n" + "".join(f"pos,t{i},{c}\n" for i, c in enumerate(cells)))
    with pytest.raises(UserError, match=rf"b.csv: column is_valid must be True/False .*row {row} holds {shown}"):
        imdb_data.read_texts(csv)


def test_no_label_rows_are_unlabelled_with_a_note(tmp_path, capsys):
    csv = tmp_path / "n.csv"
    csv.write_text("label,text\npos,good\n,unlabelled one\nNA,unlabelled two\nneg,bad\nneg,NA\n")
    df = imdb_data.read_texts(csv, valid_pct=0.2)
    assert df.label.tolist() == ["pos", "", "", "neg", "neg"] and df.text.tolist()[-1] == "NA"  # a review "NA" stays
    assert "note: " in (out := capsys.readouterr().out) and "2 of 5 rows have no label (blank or NA)" in out


def test_imdb_is_valid_refused_on_the_command_line_before_anything_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    csv = tmp_path / "b.csv"
    csv.write_text("label,text,is_valid\n" + "pos,a,no\nneg,b,\n" * 8)
    assert main(["imdb", "train", "--data", str(csv), "--name", "x", *IMDB_TINY]) == 2
    assert "column is_valid" in one_error_line(capsys) and not (tmp_path / "outputs").exists()


# ---------------------------------------------------------------- numeric settings (item 9, IMDb side)


@pytest.mark.parametrize(
    "cmd,extra,msg",
    [
        ("train", ["--bs", "0"], "--bs must be at least 1, got 0"),
        ("train", ["--bs", "-8"], "--bs must be at least 1, got -8"),
        ("train", ["--emb-sz", "0"], "--emb-sz must be at least 1"),
        ("train", ["--lm-lrs", "1e-2", "-1"], "--lm-lrs must be above 0, got -1.0"),
        ("train", ["--clas-lrs", "nan", "1", "1", "1"], "--clas-lrs must be above 0, got nan"),
        ("train", ["--lm-valid-pct", "1"], "--lm-valid-pct must be above 0 and below 1"),
        ("train", ["--valid-pct", "0"], "--valid-pct must be above 0 and below 1"),
        ("train", ["--clas-drop-mult", "2"], "--clas-drop-mult must be at least 0 and below 2"),
        ("train", ["--lm-epochs", "1", "-1"], "--lm-epochs must be at least 0"),
        ("train", ["--clas-epochs", "0", "0", "0", "0"], "--clas-epochs 0 0 0 0: the classifier would not train"),
        ("train", ["--seq-len", "0"], "--seq-len must be at least 1"),
        ("train", ["--max-vocab", "3"], "--max-vocab must be at least 16"),
        ("pretrain", ["--epochs", "0"], "--epochs must be at least 1"),
        ("pretrain", ["--lr", "-1"], "--lr must be above 0"),
    ],
)
def test_imdb_numbers_out_of_range_refused_before_anything_is_written(tmp_path, monkeypatch, capsys, cmd, extra, msg):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    src = ["--data", str(write_toy_csv(tmp_path / "s.csv", n=16))]
    if cmd == "pretrain":
        (tmp_path / "c.txt").write_text("some text to pretrain on\n" * 20)
        src = ["--corpus", str(tmp_path / "c.txt")]
    assert main(["imdb", cmd, *src, "--name", "x", *IMDB_TINY[: 14 if cmd == "pretrain" else None], *extra]) == 2
    assert msg in one_error_line(capsys)
    assert not (tmp_path / "outputs").exists()  # no record, no token cache


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["predict", "--model", "m.pkl", "--texts", "t.csv", "--bs", "0"], "--bs must be at least 1, got 0"),
        (["generate", "--temperature", "0"], "--temperature must be above 0, got 0.0"),
        (["generate", "--words", "0"], "--words must be at least 1"),
    ],
)
def test_imdb_predict_and_generate_numbers_checked(tmp_path, monkeypatch, capsys, argv, msg):
    monkeypatch.chdir(tmp_path)
    assert main(["imdb", *argv]) == 2 and msg in one_error_line(capsys)


# ---------------------------------------------------------------- a full disk while saving (item 10)


def test_saving_turns_a_full_disk_into_one_error_naming_the_file(tmp_path):
    from safetensors import SafetensorError

    f = tmp_path / "fold0" / "model.safetensors"
    msg = 'Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left on device" })'
    with pytest.raises(UserError, match=rf"cannot write {f} \(No space left on device\); the disk is full"):
        with saving(f):
            raise SafetensorError(msg)
    with pytest.raises(UserError, match=rf"cannot write {f} \(Permission denied\); check its"):
        with saving(f):
            raise PermissionError(errno.EACCES, "Permission denied")
    with pytest.raises(UserError, match="file write failed"):
        with saving(f):
            raise RuntimeError(
                "[enforce fail at inline_container.cc:595] . PytorchStreamWriter failed writing file "
                "data/0: file write failed"
            )
    with pytest.raises(ValueError):  # not a failed write: passes through untouched
        with saving(f):
            raise ValueError("a bug")


def test_a_save_failure_outside_saving_is_still_one_error_line(monkeypatch, capsys):
    from safetensors import SafetensorError

    from kagglenlp.imdb import predict

    def full(*a, **k):
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, message: "No space left on device" })')

    monkeypatch.setattr(predict, "load_learner_file", full)
    assert main(["imdb", "generate"]) == 2
    assert "a write failed (No space left on device)" in one_error_line(capsys)
    monkeypatch.setattr(predict, "load_learner_file", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # a bug is not a failed write: its traceback stays
        main(["imdb", "generate"])


def test_a_full_disk_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    f = write_json({"a": 1}, tmp_path / "cv.json")
    real = files.Path.write_text

    def full(self, *a, **k):
        real(self, "half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.Path, "write_text", full)
    with pytest.raises(UserError, match=rf"cannot write {f} \(No space left on device\); the disk is full"):
        write_json({"a": 2}, f)
    monkeypatch.undo()
    assert f.read_text().strip().replace(" ", "").replace("\n", "") == '{"a":1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cv.json"]


@pytest.mark.e2e  # trains
def test_a_full_disk_during_imdb_training_is_one_error_naming_the_checkpoint(tmp_path, monkeypatch, capsys):
    import fastai.learner

    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))

    def full(file, *a, **k):
        open(file, "wb").write(b"half a checkpoint")
        raise RuntimeError("PytorchStreamWriter failed writing file data/3: file write failed")

    monkeypatch.setattr(fastai.learner, "save_model", full)
    csv = write_toy_csv(tmp_path / "s.csv", n=16)
    assert main(["imdb", "train", "--data", str(csv), "--name", "d", *IMDB_TINY]) == 2
    err = one_error_line(capsys)
    ckpt = tmp_path / "outputs" / "d" / "models" / "lm_fwd_0_frozen.pth"
    assert f"cannot write {ckpt}" in err and "file write failed" in err
    assert not list((tmp_path / "outputs" / "d").rglob("*.pth")) and not list(tmp_path.rglob("*.tmp"))


# ---------------------------------------------------------------- results table and the lock (items 7/8, 11)


def test_results_row_written_once_per_experiment(proj):
    with open_experiment("e", "imdb", {}, fingerprint()) as exp:
        exp.result("accuracy", 0.5, n=1)
        exp.result("accuracy", 0.5, n=1)
    with open_experiment("e", "imdb", {}, fingerprint()) as exp:  # a rerun of the finished experiment
        exp.result("accuracy", 0.5, n=1)
    rows = read_results()
    assert [(r["experiment"], r["score"]) for r in rows] == [("e", "0.5")]
    (proj / "outputs" / "results.csv").unlink()  # an earlier end of run died before the row: the rerun adds it
    with open_experiment("e", "imdb", {}, fingerprint()) as exp:
        exp.result("accuracy", 0.5, n=1)
    assert read_results() == rows  # the same row, time included
    with open_experiment("e", "imdb", {}, fingerprint(), overwrite=True) as exp:
        exp.result("accuracy", 0.6, n=1)
    assert [r["score"] for r in read_results()] == ["0.5", "0.6"]  # --overwrite is a new run: a new row


def test_read_only_results_table_named_before_the_run(proj, monkeypatch):
    table = proj / "outputs" / "results.csv"
    table.parent.mkdir()
    table.write_text("experiment,time,pipeline,metric,score\n")
    real = os.access
    monkeypatch.setattr(results_table.os, "access", lambda p, m: False if str(p) == str(table) else real(p, m))
    for call in (check_experiment, open_experiment):
        with pytest.raises(UserError, match=rf"cannot write {table}: the file is read-only"):
            call("e", "imdb", {}, fingerprint())
    assert not (proj / "outputs" / "e").exists()
    e = PermissionError(errno.EACCES, "Permission denied", str(table))
    assert error_message(e) == f"Permission denied: {table} (check the file's permissions)"
    e = PermissionError(errno.EACCES, "Permission denied", str(proj / "outputs" / "x"))
    assert error_message(e).endswith("(check the folder's permissions)")


def test_lock_owner_shows_the_whole_command(proj, monkeypatch):
    argv = ["kagglenlp", "patents", "train", "--data", "input/x y", "--name", "e", "--lr", "1e-4", "--epochs", "9"]
    monkeypatch.setattr(sys, "argv", argv)
    with open_experiment("e", "patents", {}, fingerprint()):
        with pytest.raises(
            UserError, match=r"kagglenlp patents train --data 'input/x y' --name e --lr 1e-4 --epochs 9"
        ):
            check_experiment("e", "patents", {}, fingerprint())
    assert experiment._shown_command(["k", "x" * 2000]).endswith("…")
    assert len(experiment._shown_command(["k", "x" * 2000])) == 1000


# ---------------------------------------------------------------- command line (item 11)


@pytest.mark.parametrize(
    "argv,msg",
    [
        (
            ["imdb", "train", "--data", "d.csv", "--epoch", "3"],
            "unrecognized arguments: --epoch 3 (--epoch: did you mean",
        ),
        (["imdb", "train", "--data", "d.csv", "--lm-epoch", "1", "1"], "did you mean --lm-epochs?"),  # no abbreviation
        (["patents", "train", "--data", "d", "--epoch", "3"], "did you mean --epochs?"),
        (["patents", "trian"], "invalid choice: 'trian'"),
        (["imdb", "train", "--data", "d.csv", "--bs", "x"], "argument --bs: invalid int value: 'x'"),
    ],
)
def test_mistyped_option_is_one_error_line_with_a_suggestion(capsys, argv, msg):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = one_error_line(capsys)
    assert msg in err and f"(see: kagglenlp {' '.join(argv[: 2 if argv[1] != 'trian' else 1])} --help)" in err
    assert "usage:" not in err


def test_mistyped_command_suggests_the_closest(capsys):
    with pytest.raises(SystemExit):
        main(["patents", "trian"])
    assert "did you mean 'train'?" in one_error_line(capsys)


# ---------------------------------------------------------------- files: encodings, ids as text, titles (items 2, 11)


def _cp1252(path, header, rows):
    "A cp1252 file whose first non-ASCII byte sits beyond the parser's first line."
    path.write_bytes((header + "".join(rows)).encode("cp1252"))
    data = path.read_bytes()
    return next(i for i, b in enumerate(data) if b > 127)


def test_non_utf8_offset_is_the_files(tmp_path):
    off = _cp1252(
        tmp_path / "train.csv", "id,anchor,target,context,score\n", ["a1,abatement,x,A47,0.5\n", "a2,café,x,A47,0.5\n"]
    )
    with pytest.raises(UserError, match=rf"train.csv is not UTF-8 text \(.* at byte {off}, line 3\)"):
        read_csv_text(tmp_path / "train.csv")
    off = _cp1252(tmp_path / "imdb.csv", "label,text\n", ["pos,fine enough\n", "neg,crème brûlée\n"])
    with pytest.raises(UserError, match=rf"imdb.csv is not UTF-8 text \(.* at byte {off}, line 3\)"):
        imdb_data.read_texts(tmp_path / "imdb.csv")
    assert off > 20  # the parser's own offset counts from the start of its buffer


def _competition(d, train_ids, test_ids, anchors=None):
    "A competition folder with `train_ids` and `test_ids` (rows of anchors `anchors`, default 'a0', 'a1', ...)."
    d.mkdir(parents=True, exist_ok=True)
    anchors = anchors or [f"a{i % 3}" for i in range(len(train_ids))]
    trn = pd.DataFrame(dict(id=train_ids, anchor=anchors, target="t", context="A47", score=0.5))
    tst = pd.DataFrame(dict(id=test_ids, anchor="b", target="t", context="A47"))
    trn.to_csv(d / "train.csv", index=False)
    tst.to_csv(d / "test.csv", index=False)
    tst[["id"]].assign(score=0).to_csv(d / "sample_submission.csv", index=False)
    return d


def test_ids_that_look_missing_are_read_as_text(tmp_path, capsys):
    d = _competition(tmp_path / "c", ["NA", "nan", "null", "", "a5", "None"], ["NA", "N/A", "#N/A"])
    trn, tst, sample = load_competition(d)
    assert trn.id.tolist() == ["NA", "nan", "null", "", "a5", "None"]
    assert tst.id.tolist() == sample.id.tolist() == ["NA", "N/A", "#N/A"]
    f = tmp_path / "oof.csv"
    f.write_text("id,fold,pred,target\nNA,0,0.5,\nnull,1,,1\n")
    oof = read_csv_text(f)  # ids kept, other columns parsed as pandas does
    assert oof.id.tolist() == ["NA", "null"] and oof.target.isna().tolist() == [True, False]
    assert oof.pred.dtype == float and oof.pred.isna().tolist() == [False, True]


def test_ids_shared_by_train_and_test_noted(tmp_path, capsys):
    d = _competition(tmp_path / "c", ["x1", "x2", "x3"], ["x2", "y1"])
    load_competition(d)
    assert "note: 1 id(s) appear in both train.csv and test.csv (e.g. ['x2'])" in capsys.readouterr().out
    load_competition(_competition(tmp_path / "d", ["x1", "x2", "x3"], ["y1"]))
    assert "both train.csv" not in capsys.readouterr().out


def test_max_rows_names_itself(tmp_path, capsys):
    d = _competition(tmp_path / "c", [f"i{k}" for k in range(30)], ["y"], anchors=[f"a{k // 10}" for k in range(30)])
    with pytest.raises(UserError, match=r"--max-rows 5 keeps 10 rows of a single anchor \(of 3\).*raise --max-rows"):
        load_competition(d, max_rows=5)
    trn, _, _ = load_competition(d, max_rows=15)
    assert (
        len(trn) == 20 and "note: --max-rows 15 keeps 20 of 30 rows: 2 whole anchor(s) of 3" in capsys.readouterr().out
    )


def test_missing_title_names_the_file_passed(tmp_path):
    f = tmp_path / "cpc.json"
    f.write_text('{"A47": "FURNITURE"}')
    with pytest.raises(UserError) as e:
        context_titles(["A47", "H01"], load_titles(f), "--titles file (for test.csv)")
    msg = str(e.value)
    assert "['H01']" in msg and str(f) in msg and f"add them to {f}" in msg and "pass --titles FILE" not in msg
    with pytest.raises(UserError, match=r"start with no CPC section letter.*pass --titles FILE"):
        context_titles(["Z99"])  # no file passed: then passing one is the fix
