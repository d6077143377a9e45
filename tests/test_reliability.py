"""Issue 24: no option deletes work on every run, tool folders are never experiments, mistakes are one clear line."""

import hashlib

import pytest
from helpers import PATENTS_TINY, one_error_line

from kagglenlp.cli import main
from kagglenlp.experiment import RESERVED
from kagglenlp.leaderboard import experiment_of
from kagglenlp.results_table import read_results


def tree_hash(d):
    "sha256 over every file's path and bytes under `d` (changes when anything there is written or deleted)."
    h = hashlib.sha256()
    for p in sorted(q for q in d.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(d)).encode() + p.read_bytes())
    return h.hexdigest()


# ---------------------------------------------------------------- config files (items 4, 9, 10)


@pytest.mark.e2e
def test_overwrite_in_a_config_file_is_ignored_so_a_rerun_resumes(proj, demo, capsys):
    p = proj / "again.toml"
    p.write_text(
        f'data = "{demo}"\nmodel = "minilm"\nfolds = 2\nmax_rows = 60\nmax_steps = 1\nbs = 8\nseed = 0\n'
        "overwrite = true\n"
    )
    assert main(["patents", "train", "--config", str(p)]) == 0
    assert "ignored; --overwrite is a command-line flag only" in capsys.readouterr().err
    out = proj / "outputs" / "again"
    before = tree_hash(out), (proj / "submissions" / "again.csv").read_bytes()
    assert main(["patents", "train", "--config", str(p)]) == 0
    assert "to train: none" in capsys.readouterr().out  # resumed: nothing deleted, nothing retrained
    assert (tree_hash(out), (proj / "submissions" / "again.csv").read_bytes()) == before
    assert [r["experiment"] for r in read_results()] == ["again"]


@pytest.mark.parametrize(
    "raw,message",
    [
        (b'model = "caf\xe9"\n', "bad.toml is not UTF-8 text (invalid continuation byte at byte 12, line 1)"),
        (b"[train]\nbs = 8\n", "bad.toml: [train] is a TOML table; settings go at the top of the file"),
        (b"bs = true\n", "bad.toml: bs = true should be an integer"),
        (b"lr = [true]\n", "bad.toml: lr = [true] should be a number"),
    ],
)
def test_config_file_mistakes_name_the_file_in_toml_spelling(proj, capsys, raw, message):
    p = proj / "bad.toml"
    p.write_bytes(raw)
    assert main(["patents", "train", "--config", str(p), "--data", "d"]) == 2
    line = one_error_line(capsys)
    assert message in line and "CSV" not in line and "True" not in line
    assert not (proj / "outputs").exists()


def test_a_missing_required_option_still_suggests_the_mistyped_one(capsys):
    with pytest.raises(SystemExit) as e:
        main(["patents", "predict", "--model", "x", "--data", "d"])
    line = one_error_line(capsys)
    assert e.value.code == 2 and "required: --models" in line and "--model: did you mean --models?" in line


# ---------------------------------------------------------------- names (items 5, 11)


@pytest.mark.parametrize("name", [*RESERVED, "optuna.db-journal"])
def test_tool_folders_are_never_experiment_names(proj, demo, capsys, name):
    locks = proj / "outputs" / ".locks"
    locks.mkdir(parents=True)
    (locks / "other.lock").write_text("")
    before = tree_hash(proj / "outputs")
    rc = main(["patents", "train", "--data", str(demo), *PATENTS_TINY, "--name", name, "--overwrite"])
    assert rc == 2 and f"--name {name!r} is the name of a tool's folder" in one_error_line(capsys)
    assert tree_hash(proj / "outputs") == before and (locks / "other.lock").exists()


@pytest.mark.parametrize("argv", [["--name=-x"], ["--name", ".hidden"]])
def test_names_an_argument_cannot_carry_are_refused(proj, demo, capsys, argv):
    assert main(["patents", "train", "--data", str(demo), *PATENTS_TINY, *argv]) == 2
    assert "choose a name starting with a letter or digit" in one_error_line(capsys)
    assert not (proj / "outputs").exists()


def test_blend_refuses_a_reserved_name_first(proj, capsys):
    assert main(["patents", "blend", "a", "b", "--name", "mlruns", "--overwrite"]) == 2
    assert "--name 'mlruns' is the name of a tool's folder" in one_error_line(capsys)


def test_an_untagged_default_submission_file_names_no_experiment():
    assert experiment_of("kernel output", "submission.csv") is None
    assert experiment_of("plain", "submissions/bi.csv") == "bi"


# ---------------------------------------------------------------- tune (items 2, 6, 7, 11)


@pytest.fixture
def base(proj, demo):
    "A tiny tune base config (MiniLM bi-encoder, 2 folds of 60 rows, 1 step at full LR)."
    p = proj / "base.toml"
    p.write_text(
        f'data = "{demo}"\nmodel = "minilm"\nfolds = 2\nmax_rows = 60\nmax_steps = 1\nwarmup = 0\nbs = 8\nseed = 0\n'
    )
    return p


def tune(base, *argv):
    return main(["patents", "tune", "--config", str(base), "--param", "lr=loguniform:1e-4:1e-3", *argv])


@pytest.mark.parametrize(
    "url,message",
    [
        ("notaurl", "--storage 'notaurl' is not a database URL"),
        ("postgresql://u:p@localhost/db", "the database driver for postgresql is not installed"),
        ("sqlite:///missing/x.db", "folder {proj}/missing does not exist (a relative path after sqlite:/// is from"),
        ("sqlite:///base.toml/x.db", "folder {proj}/base.toml does not exist"),
        ("sqlite:///junk.db", "cannot open the Optuna storage sqlite:///junk.db (file is not a database)"),
    ],
)
def test_storage_problems_are_one_error_line(proj, base, capsys, url, message):
    (proj / "junk.db").write_text("not a database, just text\n" * 100)
    assert tune(base, "--storage", url) == 2
    assert message.format(proj=proj) in one_error_line(capsys)
    assert not (proj / "outputs").exists() and not (proj / "missing").exists()


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_storage_folder_is_one_error_line(proj, base, capsys):
    (proj / "ro").mkdir()
    (proj / "ro").chmod(0o500)
    try:
        assert tune(base, "--storage", "sqlite:///ro/optuna.db") == 2
        assert "cannot write under" in one_error_line(capsys)
    finally:
        (proj / "ro").chmod(0o700)


def test_ctrl_c_in_a_sweep_is_one_line_and_130(proj, base, capsys, monkeypatch):
    import kagglenlp.patents.run as run

    def interrupted(cfg):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "run_experiment", interrupted)
    assert tune(base) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().splitlines() == ["error: interrupted (Ctrl-C)"], err


def test_a_study_started_from_another_sweep_is_refused_with_the_difference(proj, base, capsys):
    from kagglenlp.patents.config import patents_config
    from kagglenlp.patents.run import data_fingerprint
    from kagglenlp.patents.tune import open_study, parse_param, storage_url, study_record

    other = patents_config(base, wd=0.1, lr=5e-4)  # the base lr is swept: not a difference
    data = {**data_fingerprint(other), "train": "0" * 64}  # another train.csv, the same test.csv
    rec = study_record(other, [parse_param("lr=uniform:1e-4:1e-3")], data)
    study = open_study(storage_url(), study_name="base-tune", direction="maximize")
    study.set_user_attr("record", rec)
    db = (proj / "outputs" / "optuna.db").read_bytes()
    assert tune(base) == 2
    line = one_error_line(capsys)
    assert "study 'base-tune' was started with other settings (wd: 0.1 -> 0.01; " in line
    assert "--param lr: uniform:0.0001:0.001 -> loguniform:0.0001:0.001; data train changed" in line
    assert "lr: 0.0005" not in line and "data test" not in line
    assert (proj / "outputs" / "optuna.db").read_bytes() == db and not study.trials


@pytest.mark.e2e
def test_best_toml_is_the_best_trials_own_settings_and_the_study_keeps_its_base(proj, base, capsys):
    from kagglenlp.args import read_config
    from kagglenlp.files import read_json
    from kagglenlp.patents.config import patents_config, settings

    assert tune(base, "--trials", "1") == 0
    capsys.readouterr()
    best = proj / "outputs" / "base-tune-best.toml"
    trained = read_json(proj / "outputs" / "base-tune-t000" / "experiment.json")["settings"]
    written = read_config(best, type(patents_config(base)))
    for k, v in trained.items():  # every setting the trial trained with, key by key (None: the field's default)
        if k not in ("name", "fold", "overwrite"):
            assert written.get(k) == v, k
    again, skip = settings(patents_config(best)), ("name", "fold")  # the same experiment, had it another name
    assert {k: v for k, v in again.items() if k not in skip} == {k: v for k, v in trained.items() if k not in skip}

    base.write_text(base.read_text() + "wd = 0.1\n")  # the base file edited between two runs of the sweep
    before = best.read_bytes()
    assert tune(base, "--trials", "2") == 2
    assert "(wd: 0.01 -> 0.1)" in one_error_line(capsys)
    base.write_text(base.read_text().replace("wd = 0.1\n", ""))
    assert main(["patents", "tune", "--config", str(base), "--param", "wd=uniform:0:0.1", "--trials", "2"]) == 2
    assert "--param lr: loguniform:0.0001:0.001 -> none; --param wd: none -> uniform:0.0:0.1" in one_error_line(capsys)
    assert best.read_bytes() == before and not (proj / "outputs" / "base-tune-t001").exists()
    assert tune(base, "--trials", "1") == 0 and "1 of 1 trials finished" in capsys.readouterr().out


# ---------------------------------------------------------------- collected fold folders (items 1, 8, 11)

MIX = ["--model", "minilm", "--folds", "2", "--epochs", "1", "--bs", "8", "--max-steps", "2", "--max-rows", "60"]


def _train_in(root, monkeypatch, data, *argv):
    "`patents train` with `KAGGLENLP_ROOT=root` (one Kaggle kernel's working folder)."
    monkeypatch.setenv("KAGGLENLP_ROOT", str(root))
    return main(["patents", "train", "--data", str(data), *MIX, *argv])


@pytest.mark.e2e  # trains three tiny folds
def test_train_predict_and_blend_refuse_collected_folds_of_other_runs(proj, demo, monkeypatch, capsys):
    import json
    import shutil

    import pandas as pd

    edit = proj / "input" / "editscore"  # score := 1 - score: the same ids, rows and split, inverted targets
    shutil.copytree(demo, edit)
    trn = pd.read_csv(edit / "train.csv", dtype=str)
    trn["score"] = (1 - trn["score"].astype(float)).round(2).astype(str)
    trn.to_csv(edit / "train.csv", index=False)
    assert _train_in(proj / "kA", monkeypatch, demo, "--name", "mix", "--fold", "0") == 0
    capsys.readouterr()
    assert _train_in(proj / "kA", monkeypatch, demo, "--name", "mix", "--fold", "0") == 0  # a rerun of the kernel
    out = capsys.readouterr().out
    assert "to train: none (resuming: fold 0 done)" in out and "folds still missing: [1]" in out
    assert _train_in(proj / "kD", monkeypatch, edit, "--name", "mix", "--fold", "1") == 0
    assert (
        _train_in(proj / "kM", monkeypatch, demo, "--name", "other", "--fold", "1", "--lr", "1e-3", "--max-rows", "70")
        == 0
    )
    for asm, fold1 in (("asm", "kD/outputs/mix/fold1"), ("asm2", "kM/outputs/other/fold1")):
        shutil.copytree(proj / "kA" / "outputs", proj / asm / "outputs")
        shutil.copytree(proj / fold1, proj / asm / "outputs" / "mix" / "fold1")
    capsys.readouterr()

    lines = {}
    for asm in ("asm", "asm2"):
        exp = proj / asm / "outputs" / "mix"
        before = tree_hash(proj / asm)
        assert _train_in(proj / asm, monkeypatch, demo, "--name", "mix") == 2
        lines[asm, "train"] = one_error_line(capsys)
        assert tree_hash(proj / asm) == before and not (proj / asm / "submissions").exists()  # nothing written
        pred = ["patents", "predict", "--data", str(demo), "--models", str(exp), "--out", str(proj / "s.csv")]
        assert main(pred) == 2
        lines[asm, "predict"] = one_error_line(capsys)
        assert main(["patents", "blend", "mix", "kA-mix", "--name", "b"]) == 2
        lines[asm, "blend"] = one_error_line(capsys)
        assert tree_hash(proj / asm) == before and not (proj / "s.csv").exists()
    for asm in ("asm", "asm2"):  # one check: the same message from each command for the same folders
        assert lines[asm, "train"] == lines[asm, "predict"] == lines[asm, "blend"]
    a = proj / "asm" / "outputs" / "mix"
    assert lines["asm", "train"].startswith(
        f"error: the fold models under {a} were trained differently: fold 0 ({a / 'fold0'}) vs fold 1 ({a / 'fold1'}): "
        "data train (the train file's content differs)."
    )
    line = lines["asm2", "train"]
    assert "come from 2 experiments or splits: fold 0 (" in line
    assert "experiment 'mix' vs 'other'; lr: 0.0002 vs 0.001; max_rows: 60 vs 70; split (the fold of each row)" in line

    # the folds of one run, collected from two kernels: accepted, and the row counts both folds' own seconds
    asm = proj / "asm3" / "outputs"
    shutil.copytree(proj / "kA" / "outputs", asm)
    assert _train_in(proj / "kB", monkeypatch, demo, "--name", "mix", "--fold", "1") == 0
    shutil.copytree(proj / "kB" / "outputs" / "mix" / "fold1", asm / "mix" / "fold1")
    assert _train_in(proj / "asm3", monkeypatch, demo, "--name", "mix") == 0
    own = [json.loads((asm / "mix" / f"fold{k}" / "done.json").read_text())["seconds"] for k in (0, 1)]
    cv = json.loads((asm / "mix" / "cv.json").read_text())
    row = read_results(asm / "results.csv")
    assert cv["seconds"] == round(sum(own), 1) > 0 and [float(r["seconds"]) for r in row] == [cv["seconds"]]


# ---------------------------------------------------------------- fold-grouping key (item 3)


@pytest.mark.parametrize("split", ["group", "stratified-group"])
def test_spellings_of_one_anchor_share_a_fold_and_are_named(split):
    import unicodedata

    import pandas as pd

    from kagglenlp.patents.folds import add_folds, group_key

    rows = []
    for i in range(30):
        phrase = f"metastatic bone disease {i} caf\u00e9"
        for spelt in (
            phrase,
            phrase.upper() + " ",
            "  " + phrase.replace(" ", "   "),
            unicodedata.normalize("NFD", phrase),
        ):
            rows += [dict(id=f"{len(rows)}", anchor=spelt, score=s) for s in (0.0, 0.5, 1.0)]
    df = pd.DataFrame(rows)
    assert df["anchor"].nunique() == 120 and group_key(df["anchor"]).nunique() == 30
    notes = []
    out = add_folds(df, split, 5, seed=0, log=notes.append)
    assert out.groupby(group_key(out["anchor"]))["fold"].nunique().max() == 1  # every spelling in its phrase's fold
    assert sorted(out["fold"].unique()) == [0, 1, 2, 3, 4]
    assert len(notes) == 1 and notes[0].startswith("note: 30 anchor(s) are written more than one way")
    assert "'METASTATIC BONE DISEASE 0 CAFÉ ' = " in notes[0] and "(and 27 more)" in notes[0]
