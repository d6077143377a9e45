"""The one place that runs subprocesses (the `kaggle` CLI, `pip`): bounded in time, output checked.

The kaggle CLI exits 0 on several refusals ("Kernel push error: ...", "Dataset creation error: ...")
and retries with back-off for minutes when the network is down, so every call here has a timeout and
callers say which output line proves success (`ok=`) rather than trusting the exit code alone.
"""
import importlib.util
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

from ..errors import UserError

__all__ = ["KaggleError", "Result", "run", "kaggle", "kaggle_cmd", "TIMEOUT"]

TIMEOUT = 300  # default seconds for one kaggle CLI call (uploads of big wheels take a while)


class KaggleError(UserError):
    "A kaggle CLI or pip call failed, timed out, or did not print what proves success."


@dataclass
class Result:
    "What a finished subprocess printed."
    args: list
    returncode: int
    out: str  # stdout and stderr together, in order

    def tail(self, n=15):
        "The last `n` non-progress-bar lines of the output."
        lines = [l for l in self.out.replace("\r", "\n").splitlines() if l.strip() and "it/s]" not in l and "B/s]" not in l]
        return "\n".join(lines[-n:])


def _secrets():
    "Credential values from the environment, to be masked in anything we print."
    return [v for k in ("KAGGLE_KEY", "KAGGLE_API_TOKEN") if len(v := os.environ.get(k, "")) >= 8]


def _mask(s):
    for v in _secrets(): s = s.replace(v, "***")
    return s


def run(args, timeout=TIMEOUT, what=None, ok=None, env=None, cwd=None):
    """Run `args` for at most `timeout` s; raise `KaggleError` on timeout, non-zero exit, or when regex `ok`
    does not match the output. `what` names the step in messages. Returns a `Result`."""
    what = _mask(what or " ".join(map(str, args[:4])))
    try:
        p = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             errors="replace", env=env, cwd=cwd, start_new_session=True)
    except OSError as e:
        raise KaggleError(f"{what}: cannot start {args[0]}: {e}") from None
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try: os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError: pass
        out, _ = p.communicate()
        res = Result(list(args), -9, _mask(out or ""))
        raise KaggleError(f"{what}: no answer after {timeout:g} s (is the network up? the kaggle CLI retries with "
                          f"back-off); last output:\n{res.tail()}") from None
    res = Result(list(args), p.returncode, _mask(out))
    if p.returncode != 0:
        raise KaggleError(f"{what} failed (exit {p.returncode}):\n{res.tail()}")
    if ok is not None and not re.search(ok, res.out):
        raise KaggleError(f"{what} did not report success:\n{res.tail()}")
    return res


# `python -m kaggle` would put the current folder first on sys.path, where a `kaggle/` folder (this package's own,
# when run from src/kagglenlp) would shadow the real CLI; argv[0] is what the CLI checks to know it runs as the CLI.
BOOT = ("import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; sys.argv[0] = 'kaggle'; "
        "from kaggle.cli import main; main()")


def kaggle_cmd():
    "The command that runs the kaggle CLI installed for this Python."
    if importlib.util.find_spec("kaggle") is None:
        raise UserError("the kaggle package is not installed: pip install 'kaggle==2.2.5' six")
    return [sys.executable, "-c", BOOT]


def kaggle(*args, timeout=TIMEOUT, ok=None, what=None):
    "Run `kaggle ARGS...` (see `run`)."
    return run([*kaggle_cmd(), *args], timeout=timeout, ok=ok, what=what or "kaggle " + " ".join(map(str, args[:2])))
