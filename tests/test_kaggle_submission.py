"""`kagglenlp.submission`: the checks every submission passes before it is written or sent to Kaggle."""

import pandas as pd
import pytest

from kagglenlp.errors import UserError
from kagglenlp.submission import align_to_sample, check_submission, check_submission_file, write_submission


@pytest.fixture
def sample():
    return pd.DataFrame({"id": ["a", "b", "c"], "score": [0, 0, 0]})


def test_write_submission_puts_another_row_order_into_the_samples_and_says_so(tmp_path, sample, capsys):
    sub = pd.DataFrame({"id": ["c", "a", "b"], "score": [1.0, 0.5, 0.25]})
    p = write_submission(sub, tmp_path / "s.csv", sample)
    assert "another order" in capsys.readouterr().err
    assert pd.read_csv(p).equals(pd.DataFrame({"id": ["a", "b", "c"], "score": [0.5, 0.25, 1.0]}))


def test_align_leaves_anything_but_a_pure_reordering_to_the_checks(sample, capsys):
    same = sample.assign(score=[0.1, 0.2, 0.3])
    assert align_to_sample(same, sample) is same
    other = pd.DataFrame({"id": ["c", "a", "x"], "score": [0.1, 0.2, 0.3]})
    assert align_to_sample(other, sample) is other
    with pytest.raises(UserError, match="1 sample ids are missing"):
        check_submission(align_to_sample(other, sample), sample)
    assert capsys.readouterr().err == ""  # no note when nothing was reordered


def test_check_file_reads_ids_as_text(tmp_path):
    (tmp_path / "sample.csv").write_text("id,score\n007,0\n010,0\n")
    (tmp_path / "ok.csv").write_text("id,score\n007,0.5\n010,1\n")
    (tmp_path / "stripped.csv").write_text("id,score\n7,0.5\n10,1\n")
    sub = check_submission_file(tmp_path / "ok.csv", tmp_path / "sample.csv")
    assert list(sub["id"]) == ["007", "010"]
    with pytest.raises(UserError, match="compared as text"):
        check_submission_file(tmp_path / "stripped.csv", tmp_path / "sample.csv")


def test_check_file_refuses_a_bom_but_reads_a_sample_with_one(tmp_path):
    (tmp_path / "sample.csv").write_bytes(b"\xef\xbb\xbfid,score\na,0\n")
    (tmp_path / "ok.csv").write_text("id,score\na,0.5\n")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfid,score\na,0.5\n")
    assert len(check_submission_file(tmp_path / "ok.csv", tmp_path / "sample.csv")) == 1
    with pytest.raises(UserError, match="byte-order mark"):
        check_submission_file(tmp_path / "bom.csv", tmp_path / "sample.csv")


def test_check_file_flags_empty_and_missing_values(tmp_path):
    (tmp_path / "sample.csv").write_text("id,score\na,0\nb,0\n")
    (tmp_path / "empty.csv").write_text("id,score\na,0.5\nb,\n")
    with pytest.raises(UserError, match="1 missing or non-numeric"):
        check_submission_file(tmp_path / "empty.csv", tmp_path / "sample.csv")


@pytest.mark.parametrize(
    "text, msg",
    [
        ("ID,Score\na,0.5\n", "column names are case-sensitive"),
        ("id;score\na;0,5\n", ";-delimited"),
        ("", r"empty \(0 bytes\)"),
        ("id,score\na,0.5\nb,1,2,3\n", "not a readable CSV"),
    ],
)
def test_check_file_refuses_unreadable_files_with_one_message(tmp_path, text, msg):
    (tmp_path / "sample.csv").write_text("id,score\na,0\n")
    (tmp_path / "s.csv").write_text(text)
    with pytest.raises(UserError, match=msg):
        check_submission_file(tmp_path / "s.csv", tmp_path / "sample.csv")


@pytest.mark.parametrize("text", ["ID,Score\na,0.5\n", "id;score\na;0,5\n", ""])
def test_submit_refuses_them_with_one_error_line_and_exit_2(tmp_path, text, capsys):
    from kagglenlp.cli import main

    (tmp_path / "sample.csv").write_text("id,score\na,0\n")
    (tmp_path / "s.csv").write_text(text)
    rc = main(["kaggle", "submit", "-c", "comp", "-m", "x", "-f", str(tmp_path / "s.csv"), "--sample",
               str(tmp_path / "sample.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "Traceback" not in err
