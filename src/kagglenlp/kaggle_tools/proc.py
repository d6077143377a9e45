"""The one place that runs subprocesses (the `kaggle` CLI, `pip`, papermill): bounded in time, output checked.

The kaggle CLI exits 0 on several refusals ("Kernel push error: ...", "Dataset creation error: ...") and retries
with back-off for minutes when the network is down, so every call here has a timeout and callers say which output
line proves success (`ok=`) rather than trusting the exit code alone. A `Deadline` caps each call's timeout by the
time left to the whole command, so a hanging server cannot stretch `--timeout`.
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from ..errors import UserError
from ..paths import env as _env

__all__ = [
    "KaggleError",
    "DeadlineError",
    "Result",
    "Deadline",
    "run",
    "kaggle",
    "kaggle_cmd",
    "secs",
    "transient",
    "retry_after",
    "TIMEOUT",
]

TIMEOUT = 300  # default seconds for one kaggle CLI call (uploads of big wheels take a while)


def secs(s):
    "Seconds `s` for people: `1.6 s`, `42 s`, `12 min`, `3.5 h`."
    s = max(float(s), 0.0)
    if s < 10:
        return f"{s:.1f}".removesuffix(".0") + " s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 2 * 3600:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f}".removesuffix(".0") + " h"


# What the kaggle CLI prints for an error worth retrying: a 5xx ("a problem on Kaggle's side"), a 429, no
# connection.
TRANSIENT = re.compile(
    r"problem on Kaggle's side|rate limited|Too Many Requests|\b50[0234]\b|Connection refused|Max retries exceeded|"
    r"Connection reset|Connection aborted|RemoteDisconnected|Temporary failure in name resolution|timed out",
    re.I,
)


def transient(err):
    "True when error `err` (a `KaggleError` of a CLI call) is worth retrying: a server or network hiccup."
    return isinstance(err, KaggleError) and not isinstance(err, DeadlineError) and bool(TRANSIENT.search(str(err)))


def retry_after(err):
    "Seconds a `Retry-After: N` in error `err` asks to wait, or None (the kaggle CLI 2.2.5 does not print it)."
    m = re.search(r"Retry-After:?\s*(\d+(?:\.\d+)?)", str(err), re.I)
    return float(m[1]) if m else None


class KaggleError(UserError):
    "A kaggle CLI, pip or papermill call failed, timed out, or did not print what proves success."


class DeadlineError(KaggleError):
    "The whole command's time limit ran out."


@dataclass
class Result:
    "What a finished subprocess printed."

    args: list
    returncode: int
    out: str  # stdout and stderr together, in order

    def tail(self, n=15):
        "The last `n` non-progress-bar lines of the output."
        lines = self.out.replace("\r", "\n").splitlines()
        lines = [s for s in lines if s.strip() and "it/s]" not in s and "B/s]" not in s]
        return "\n".join(lines[-n:])


class Deadline:
    "The time limit of a whole command; `cap(t)` is one call's timeout: `t`, or less when less time is left."

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.end = clock() + seconds

    def left(self):
        "Seconds left (may be negative)."
        return self.end - self.clock()

    def cap(self, timeout, what="waiting"):
        "`min(timeout, time left)`; `DeadlineError` when no time is left."
        left = self.left()
        if left <= 0:
            raise DeadlineError(f"timed out after {secs(self.clock() - self.end + self.seconds)} {what}")
        return min(timeout, left)


def _secrets():
    "Credential values from the environment, to be masked in anything we print."
    vals = [_env("KAGGLE_KEY", ""), _env("KAGGLE_API_TOKEN", "")]
    return [v for v in vals if len(v) >= 8]


def _mask(s):
    "`s` with every configured credential replaced by `***`."
    for v in _secrets():
        s = s.replace(v, "***")
    return s


def _pump(stream, lines, tee):
    "Read `stream` to its end into list `lines`, echoing each line to file `tee`."
    for line in stream:
        lines.append(line)
        tee.write(line)
        tee.flush()


def run(args, timeout=TIMEOUT, what=None, ok=None, env=None, cwd=None, tee=None):
    """Run `args` for at most `timeout` s; raise `KaggleError` on timeout, non-zero exit, or when regex `ok`
    does not match the output. `what` names the step in messages; `tee` (a file) shows the output as it comes (a
    long build's progress). Returns a `Result`."""
    what = _mask(what or " ".join(map(str, args[:4])))
    try:
        p = subprocess.Popen(
            [str(a) for a in args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as e:
        raise KaggleError(f"{what}: cannot start {args[0]}: {e}") from None
    lines, pump = [], None
    if tee is not None:  # a thread reads the output, so the wait below keeps its timeout
        pump = threading.Thread(target=_pump, args=(p.stdout, lines, tee), daemon=True)
        pump.start()
    try:
        if pump:
            p.wait(timeout=timeout)
            pump.join(60)  # the rest of the output (a child left holding the pipe cannot block us)
            out = "".join(lines)
        else:
            out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(p)
        if pump:
            pump.join(10)
            out = "".join(lines)
        else:
            out, _ = p.communicate()
        res = Result(list(args), -9, _mask(out or ""))
        raise KaggleError(
            f"{what}: no answer after {secs(timeout)} (is the network up? the kaggle CLI retries with "
            f"back-off); last output:\n{res.tail()}"
        ) from None
    except BaseException:  # Ctrl-C: do not leave the child (and its children) running
        _kill(p)
        raise
    res = Result(list(args), p.returncode, _mask(out))
    if p.returncode != 0:
        raise KaggleError(f"{what} failed (exit {p.returncode}):\n{res.tail()}")
    if ok is not None and not re.search(ok, res.out):
        raise KaggleError(f"{what} did not report success:\n{res.tail()}")
    return res


def _kill(p):
    "Kill process `p`'s whole session (it was started in a new one)."
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# `python -c` puts the current folder first on sys.path, so a `kaggle/` package in whatever folder the user runs
# from (a clone of the kaggle API, a folder of their own with an __init__.py) would shadow the real CLI. Renaming
# our subpackage to `kaggle_tools` removed the case of running from src/kagglenlp, not this one, so the current
# folder is dropped. argv[0] is what the CLI checks to know it runs as the CLI.
BOOT = (
    "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; sys.argv[0] = 'kaggle'; "
    "from kaggle.cli import main; main()"
)


def kaggle_cmd():
    "The command that runs the kaggle CLI installed for this Python."
    if importlib.util.find_spec("kaggle") is None:
        raise UserError("the kaggle package is not installed: pip install 'kaggle==2.2.5' six")
    return [sys.executable, "-c", BOOT]


def kaggle(*args, timeout=TIMEOUT, ok=None, what=None):
    "Run `kaggle ARGS...` (see `run`)."
    return run(
        [*kaggle_cmd(), *args],
        timeout=timeout,
        ok=ok,
        what=what or "kaggle " + " ".join(map(str, args[:2])),
    )
