"""Competition submissions: a checked file (`-f`), or a kernel version for a code competition (`-k` with `-v`);
and the listing of your submissions with their scores (`kaggle competitions submissions`) for `kaggle scores`."""

from pathlib import Path

from ..errors import UserError, require
from ..submission import check_submission_file
from . import creds
from .meta import split_id
from .proc import KaggleError, kaggle

__all__ = ["submit_args", "submit_file", "submit_code", "default_sample", "submissions_args", "list_submissions"]


def default_sample(competition):
    "`sample_submission.csv` of `competition` in its input folder (see `kagglenlp.paths.input_dir`)."
    from ..paths import input_dir

    return input_dir(competition) / "sample_submission.csv"


def submit_args(competition, message, file=None, kernel=None, version=None):
    "Arguments of `kaggle competitions submit` (pure); `kernel` and `version` go together (a code competition)."
    require(competition, "give the competition (-c)")
    require(message and message.strip(), "give a submission message (-m)")
    require((kernel is None) == (version is None), "a code submission needs both --kernel and --version")
    if kernel is not None:
        split_id(kernel)
        require(
            str(version).isdigit() and int(version) > 0,
            f"--version must be a positive integer, got {version!r}",
        )
        return [
            "competitions",
            "submit",
            "-c",
            competition,
            "-k",
            kernel,
            "-v",
            str(int(version)),
            "-f",
            file or "submission.csv",
            "-m",
            message,
        ]
    require(file, "give the submission file (-f)")
    return ["competitions", "submit", "-c", competition, "-f", str(file), "-m", message]


def _send(args, timeout):
    creds.require_credentials()
    res = kaggle(*args, timeout=timeout, what="kaggle competitions submit")
    if "Successfully submitted" not in res.out and "Submission ref:" not in res.out:
        raise KaggleError(
            "kaggle competitions submit did not confirm the submission; check "
            f"`kaggle competitions submissions -c {args[3]}` before retrying:\n{res.tail()}"
        )
    return res.tail(3)


def submit_file(competition, file, message, sample=None, timeout=600):
    "Check `file` against `sample` (the competition's `sample_submission.csv` by default), then submit it."
    sample = Path(sample) if sample else default_sample(competition)
    if not sample.is_file():
        raise UserError(f"sample submission not found: {sample}; pass --sample path/to/sample_submission.csv")
    check_submission_file(file, sample)
    return _send(submit_args(competition, message, file=file), timeout)


def submit_code(competition, kernel, version, message, file="submission.csv", timeout=300):
    "Submit version `version` of kernel `kernel` (its output `file`) to code competition `competition`."
    return _send(submit_args(competition, message, file=file, kernel=kernel, version=version), timeout)


def submissions_args(competition, page_size=100):
    "Arguments of `kaggle competitions submissions` as CSV (pure): kaggle 2.2.5 prints one page, newest first."
    require(competition, "give the competition (-c)")
    return ["competitions", "submissions", "-c", competition, "--csv", "--page-size", str(int(page_size))]


def list_submissions(competition, page_size=100, timeout=120):
    """The CSV (`ref,fileName,date,description,status,publicScore,privateScore`) of your latest `page_size`
    submissions to `competition`; '' when there are none."""
    creds.require_credentials()
    res = kaggle(
        *submissions_args(competition, page_size),
        timeout=timeout,
        what="kaggle competitions submissions",
    )
    if "No submissions found" in res.out:
        return ""
    lines = res.out.splitlines()
    start = next((i for i, s in enumerate(lines) if s.startswith("ref,") or "fileName" in s), None)
    if start is None:
        raise KaggleError(f"kaggle competitions submissions printed no CSV listing:\n{res.tail()}")
    return "\n".join(lines[start:]) + "\n"
