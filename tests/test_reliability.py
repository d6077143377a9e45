"""Issue 24: no option deletes work on every run, tool folders are never experiments, mistakes are one clear line."""

import hashlib

import pytest
from helpers import PATENTS_TINY, one_error_line

from kagglenlp.cli import main
from kagglenlp.experiment import RESERVED, read_results
from kagglenlp.leaderboard import experiment_of
from kagglenlp.patents.demo import write_demo


@pytest.fixture
def demo(proj):
    return write_demo(proj / "input" / "demo")


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
        (b"lr = [1, 2]\n", "bad.toml: lr = [1, 2] should be a number"),
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
