"""Kernels on Kaggle: write a kernel folder, push it (and read the version), poll its status, fetch its outputs,
and push the fold set (one training kernel per fold, then the inference kernel fed by them).

Every call to the kaggle CLI is bounded by the command's overall time limit (`proc.Deadline`), and a wait after a
push follows the version just pushed (`owner/slug/N`), never an older version's status.
"""

import json
import re
import sys
import tempfile
import time
from pathlib import Path

from ..errors import UserError, require
from . import creds
from .meta import dumps, inject_parameters, install_cell, prepare_notebook, validate_kernel_meta
from .proc import Deadline, DeadlineError, KaggleError, kaggle, retry_after, secs, transient

__all__ = [
    "read_notebook",
    "write_kernel",
    "push",
    "push_kernel",
    "status",
    "wait",
    "output",
    "kernel_log",
    "log_tail",
    "failure_log",
    "push_folds",
    "check_kernel_dir",
    "fold_refs",
    "check_folds_complete",
    "pushed_file",
    "record_version",
    "pushed_version",
    "quota",
    "gpu_quota_line",
    "gpu_quota_note",
    "DONE",
    "FAILED",
    "PUSH_TIMEOUT",
    "STATUS_TIMEOUT",
    "QUOTA_TIMEOUT",
]

DONE, FAILED = {"COMPLETE"}, {"ERROR", "CANCEL_REQUESTED", "CANCEL_ACKNOWLEDGED"}
PUSHED_RE = re.compile(r"Kernel version (\d+) successfully (?:pushed|saved)")
STATUS_RE = re.compile(r'has status "(?:KernelWorkerStatus\.)?(\w+)"')
PUSH_TIMEOUT = 300  # seconds for one `kernels push` (capped by the command's time left)
STATUS_TIMEOUT = 120  # seconds for one `kernels status` (capped likewise)
# seconds for the GPU-quota read before a push: a note only, so a hung server must not cost more
QUOTA_TIMEOUT = 20


def read_notebook(path):
    "The notebook at `path` as a dict (`UserError` when missing or not a notebook)."
    import nbformat

    path = Path(path)
    require(path.is_file(), f"notebook not found: {path}")
    require(path.suffix == ".ipynb", f"{path} is not a notebook (.ipynb)")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as e:
        raise UserError(f"{path} is not a readable notebook: {e}") from None


def check_kernel_dir(folder, overwrite=False):
    """Refuse kernel folder `folder` unless it is missing or empty, or (with `overwrite`) an earlier kernel folder
    (it holds `kernel-metadata.json`): anything else is never deleted."""
    folder = Path(folder)
    if not folder.exists() or not any(folder.iterdir()):
        return folder
    require(overwrite, f"kernel folder {folder} is not empty; pass --overwrite to replace it, or another --dir")
    require(
        (folder / "kernel-metadata.json").is_file(),
        f"kernel folder {folder} is not empty and holds no kernel-metadata.json; --overwrite replaces only kernel "
        "folders: choose another --dir",
    )
    return folder


def write_kernel(folder, meta, nb, params=None, code_dataset=None, overwrite=False):
    """Write `kernel-metadata.json` and the prepared notebook (outputs stripped, kernelspec set, `params`
    injected, install cell when `code_dataset` is given) into empty folder `folder` (an earlier kernel folder is
    replaced with `overwrite`); returns the folder."""
    import shutil

    import nbformat

    validate_kernel_meta(meta)
    folder = check_kernel_dir(folder, overwrite)
    if folder.exists() and any(folder.iterdir()):
        shutil.rmtree(folder)
    nb = prepare_notebook(nb)
    if params:
        nb = inject_parameters(nb, **params)
    if code_dataset:
        nb = install_cell(nb, code_dataset.split("/")[-1])
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.from_dict(nb), folder / meta["code_file"])
    (folder / "kernel-metadata.json").write_text(dumps(meta))
    creds.check_no_credentials([folder / meta["code_file"], folder / "kernel-metadata.json"])
    return folder


def pushed_file():
    """Where the version of each kernel pushed from this machine is recorded
    (`<KAGGLENLP_CACHE>/pushed-kernels.json`)."""
    from .image import cache_root

    return cache_root().parent / "pushed-kernels.json"


def _read_pushed(path):
    "`{kernel id: version}` recorded in `path` ({} when there is none)."
    try:
        got = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise UserError(
            f"{path} is not valid JSON: delete it (it records the versions pushed from here)",
        ) from None
    return got if isinstance(got, dict) else {}


def record_version(kernel, version):
    "Record that version `version` of `kernel` (`owner/slug`) was just pushed (`pushed_file`)."
    import os

    from filelock import FileLock

    path = pushed_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        got = {**_read_pushed(path), kernel: int(version)}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(got, indent=1, sort_keys=True))
        os.replace(tmp, path)


def pushed_version(kernel):
    "The version of `kernel` last pushed from here (`record_version`), or None."
    return _read_pushed(pushed_file()).get(kernel)


def push(folder, timeout=PUSH_TIMEOUT):
    """`kaggle kernels push -p folder` (the machine comes from the metadata's `machine_shape`); returns the pushed
    version number. A printed "Kernel push error" or dropped sources are failures although the CLI exits 0."""
    creds.require_credentials()
    meta = json.loads((Path(folder) / "kernel-metadata.json").read_text())
    print(f"pushing {meta['id']} ...", file=sys.stderr, flush=True)
    res = kaggle("kernels", "push", "-p", folder, timeout=timeout, what=f"kaggle kernels push {meta['id']}")
    if "Kernel push error" in res.out:
        raise KaggleError(f"push of {meta['id']} refused:\n{res.tail()}")
    m = PUSHED_RE.search(res.out)
    if not m:
        raise KaggleError(f"push of {meta['id']} did not report a version:\n{res.tail()}")
    dropped = [s for s in res.out.splitlines() if "are not valid" in s and "sources" in s]
    if dropped:
        msg = f"{meta['id']} version {m[1]} was pushed without some sources:\n" + "\n".join(dropped)
        raise KaggleError(msg)
    record_version(meta["id"], m[1])
    return int(m[1])


def push_kernel(notebook, meta, params=None, code_dataset=None, folder=None, dry_run=False, overwrite=False, **kw):
    """Write notebook `notebook` as kernel `meta` into `folder` (a temporary one by default) and push it unless
    `dry_run`; returns the version (None for a dry run). A failed push removes the folder it wrote, so the same
    command can be run again."""
    import shutil

    nb = read_notebook(notebook) if not isinstance(notebook, dict) else notebook
    if folder is None:
        require(not dry_run, "--dry-run needs --dir to write the kernel folder into")
        with tempfile.TemporaryDirectory(prefix="kagglenlp-kernel-") as tmp:
            return push(write_kernel(Path(tmp) / "k", meta, nb, params, code_dataset), **kw)
    write_kernel(folder, meta, nb, params, code_dataset, overwrite)
    if dry_run:
        return None
    try:
        return push(folder, **kw)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def status(kernel, timeout=STATUS_TIMEOUT):
    "`(status, failure message)` of `kernel` (`owner/slug`, or `owner/slug/VERSION`), e.g. `('RUNNING', '')`."
    creds.require_credentials()
    res = kaggle("kernels", "status", kernel, timeout=timeout, what=f"kaggle kernels status {kernel}")
    m = STATUS_RE.search(res.out)
    if not m:
        raise KaggleError(f"cannot read the status of {kernel}:\n{res.tail()}")
    fm = re.search(r'Failure message: "(.*)"', res.out)
    return m[1].upper(), fm[1] if fm else ""


def _timed_out(timeout, kernels, elapsed, hint=None):
    "The error for a wait on `kernels` that gave up after `elapsed` s of its `timeout`."
    left = "" if elapsed >= timeout else f"; less than one poll of the {secs(timeout)} --timeout was left"
    return UserError(
        f"timed out after {secs(elapsed)} waiting for "
        + ", ".join(kernels)
        + f"{left}; they keep running on Kaggle: "
        + (hint or "check again with `kagglenlp kaggle status ... --wait`")
    )


def _poll(k, deadline, sleep, out, clock, max_pause=60):
    """`status(k)`, retrying a transient error (a 5xx, 429 or refused connection) with growing pauses (or the
    `Retry-After` asked for) while `deadline` allows; `DeadlineError` (naming the last such error) when it does
    not."""
    n, last = 0, None
    while True:
        try:
            t = deadline.cap(STATUS_TIMEOUT)
            return status(k, timeout=t)
        except KaggleError as e:
            out_of_time = isinstance(e, DeadlineError) or (t < STATUS_TIMEOUT and deadline.left() < 1)
            if not out_of_time and not transient(e):
                raise
            if not out_of_time:
                n, last = n + 1, str(e).strip().splitlines()[-1][:200]
                pause = retry_after(e) or min(2.0**n, max_pause)
                out_of_time = deadline.left() < pause
            if out_of_time:
                raise DeadlineError(f"the server kept failing ({last})" if last else str(e)) from None
            print(f"{k}: {last}; retrying in {secs(pause)} (attempt {n})", file=out, flush=True)
            sleep(pause)


def wait(
    kernels,
    timeout=3600,
    interval=30,
    out=None,
    clock=time.monotonic,
    sleep=time.sleep,
    heartbeat=600,
    hint=None,
    logs=True,
):
    """Poll `kernels` (`owner/slug[/version]`) until each is complete or failed, printing a status line whenever
    one changes (and every `heartbeat` s); a transient server or network error is retried within `timeout`.
    `UserError` when one fails (with the last lines of its log when `logs`) or `timeout` s pass, however slowly
    the server answers; `hint` says how to continue then. Returns `{kernel: status}`."""
    kernels, deadline, last, why, out = list(kernels), Deadline(timeout, clock), {}, {}, out or sys.stderr
    start = shown = clock()
    while True:
        cur = {}
        for k in kernels:
            if last.get(k) in DONE | FAILED:
                cur[k] = last[k]
                continue
            try:
                cur[k], why[k] = _poll(k, deadline, sleep, out, clock)
            except DeadlineError as e:
                todo = [k for k in kernels if last.get(k) not in DONE]
                err = _timed_out(timeout, todo, clock() - start, hint)
                raise UserError(f"{err} (last error: {e})" if "kept failing" in str(e) else str(err)) from None
        if cur != last or clock() - shown >= heartbeat:
            shown = clock()
            line = "  ".join(f"{k}: {s}" for k, s in cur.items())
            print(f"[{secs(clock() - start):>6}] {line}", file=out, flush=True)
            last = cur
        bad = [k for k, s in cur.items() if s in FAILED]
        if bad:
            msg = "kernel failed: " + "; ".join(f"{k}: {cur[k]} {why[k]}".rstrip() for k in bad)
            raise UserError(msg + "".join(failure_log(k, deadline) if logs else "" for k in bad))
        if all(s in DONE for s in cur.values()):
            return cur
        if deadline.left() < interval:
            raise _timed_out(timeout, [k for k in kernels if cur[k] not in DONE], clock() - start, hint)
        sleep(interval)


def kernel_log(kernel, timeout=STATUS_TIMEOUT):
    "The log of `kernel`'s latest run as text (`kaggle kernels logs`)."
    creds.require_credentials()
    ref = "/".join(kernel.split("/")[:2])
    return kaggle("kernels", "logs", ref, timeout=timeout, what=f"kaggle kernels logs {ref}").out


def log_tail(text, n=20):
    """The last `n` lines of a kernel log (Kaggle's JSON list of `{"data": ...}` entries, or plain text), with the
    traceback's last lines."""
    try:
        entries = json.loads(text)
        text = "".join(e.get("data", "") for e in entries if isinstance(e, dict))
    except ValueError:
        pass
    lines = [s for s in text.replace("\r", "\n").splitlines() if s.strip()]
    return "\n".join(lines[-n:])


def failure_log(kernel, deadline=None):
    "`\\n<the last lines of the failed kernel's log>`, or a line saying how to fetch it when it cannot be read."
    how = f"\n(its log: kagglenlp kaggle output {'/'.join(kernel.split('/')[:2])} --dir DIR)"
    try:
        t = deadline.cap(STATUS_TIMEOUT) if deadline else STATUS_TIMEOUT
        tail = log_tail(kernel_log(kernel, timeout=t))
    except (KaggleError, UserError):
        return how
    return f"\nlast lines of the log of {kernel}:\n{tail}{how}" if tail else how


def fold_refs(fold_ids, versions=None):
    """`owner/slug/VERSION` of each kernel of `fold_ids`: its version pushed last (`versions` given in the same
    order, else as recorded at its push here). A plain `owner/slug` can answer for an older version, so a kernel
    without a known version is refused (`UserError`)."""
    versions = list(versions or [])
    require(
        not versions or len(versions) == len(fold_ids),
        f"--fold-version: give one version per fold kernel ({len(fold_ids)}), got {len(versions)}",
    )
    vs = dict(zip(fold_ids, versions)) or {k: pushed_version(k) for k in fold_ids}
    unknown = [k for k, v in vs.items() if v is None]
    require(
        not unknown,
        f"--skip-folds needs the version of each fold kernel pushed, and no push of {', '.join(unknown)} is "
        f"recorded here ({pushed_file()}); the status of a plain owner/slug may be an older version's. Pass "
        "--fold-version N once per fold, in fold order (the versions their pushes printed)",
    )
    return [f"{k}/{vs[k]}" for k in fold_ids]


def check_folds_complete(refs, deadline=None):
    "Refuse (`UserError` with each one's status) unless every kernel version of `refs` (`fold_refs`) is COMPLETE."
    got = {}
    for ref in refs:
        t = deadline.cap(STATUS_TIMEOUT, f"asking for the status of {ref}") if deadline else STATUS_TIMEOUT
        got[ref] = status(ref, timeout=t)[0]
    bad = {k: s for k, s in got.items() if s not in DONE}
    if bad:
        lines = "\n  ".join(f"{k}: {s}" for k, s in got.items())
        raise UserError(
            f"--skip-folds needs the version of every fold kernel pushed last COMPLETE; {len(bad)} of {len(got)} "
            f"are not:\n  {lines}\nwait for them (the same command plus --wait, or kagglenlp kaggle status "
            f"{' '.join(bad)} --wait), or re-run a failed one with --only K"
        )
    return got


def quota(timeout=STATUS_TIMEOUT):
    "The accelerator quota table the kaggle CLI prints (`kaggle quota`): used, remaining, total, refresh time."
    creds.require_credentials()
    return kaggle("quota", timeout=timeout, what="kaggle quota").tail(10)


def gpu_quota_line(table):
    "`GPU quota this week: 20.00h left of 30.00h (10.00h used; refreshes ...)` from `kaggle quota`'s table; None."
    for line in table.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0].upper() == "GPU":
            when = f"; refreshes {f[4]}" if len(f) > 4 else ""
            return f"GPU quota this week: {f[2]} left of {f[3]} ({f[1]} used{when})"
    return None


def gpu_quota_note(deadline=None):
    """The week's GPU quota left as one line (`kaggle quota`), or a note saying why it cannot be read: never an
    error."""
    try:
        t = deadline.cap(QUOTA_TIMEOUT, "asking for the GPU quota") if deadline else QUOTA_TIMEOUT
        line = gpu_quota_line(quota(timeout=t))
    except (KaggleError, UserError) as e:
        why = str(e).strip().splitlines()[-1][:160] if str(e).strip() else type(e).__name__
        return f"note: cannot read the GPU quota ({why}); see `kagglenlp kaggle quota`"
    return line or "note: `kaggle quota` lists no GPU quota"


def output(kernel, folder, timeout=1800, overwrite=False):
    """Download `kernel`'s outputs (and log) into `folder`, refusing a non-empty folder unless `overwrite`; returns
    them."""
    creds.require_credentials()
    folder = Path(folder)
    require(
        overwrite or not folder.exists() or not any(folder.iterdir()),
        f"{folder} is not empty; choose another --dir or pass --overwrite",
    )
    folder.mkdir(parents=True, exist_ok=True)
    force = ["--force"] if overwrite else []
    kaggle(
        "kernels",
        "output",
        kernel,
        "-p",
        folder,
        *force,
        timeout=timeout,
        what=f"kaggle kernels output {kernel}",
    )
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    require(files, f"kaggle kernels output {kernel} downloaded nothing into {folder}")
    return files


def push_folds(
    specs,
    train_nb,
    infer_nb,
    code_dataset=None,
    kernels_dir=None,
    push_folds=True,
    push_inference=True,
    wait_timeout=None,
    interval=30,
    dry_run=False,
    log=print,
    deadline=None,
    overwrite=False,
):
    """Push the fold kernels of `specs` (from `meta.fold_kernels`) with notebook `train_nb`, wait for the
    versions just pushed when `wait_timeout`, then push the inference kernel with `infer_nb`; with `dry_run`
    only write the kernel folders into `kernels_dir`. Each push is bounded by `deadline` (a `proc.Deadline`).
    Returns `{kernel: version}`."""
    folds = [s for s in specs if s.role == "fold"]
    infer = [s for s in specs if s.role == "inference"]
    train_nb, infer_nb = read_notebook(train_nb), read_notebook(infer_nb)
    deadline = deadline or Deadline(wait_timeout or 24 * 3600)
    versions = {}
    with tempfile.TemporaryDirectory(prefix="kagglenlp-folds-") as tmp:
        base = Path(kernels_dir or tmp)
        todo = [(s, train_nb) for s in folds] if push_folds else []
        todo += [(s, infer_nb) for s in infer] if push_inference else []
        for s, nb in todo:
            if s.role == "inference" and push_folds and wait_timeout and not dry_run:
                pushed = [f"{f.id}/{versions[f.id]}" for f in folds]  # the versions just pushed, not older ones
                hint = (
                    "when they are COMPLETE, push the inference kernel with the same command plus --skip-folds "
                    "(without --wait); follow them with `kagglenlp kaggle status " + " ".join(pushed) + " --wait`"
                )
                wait(pushed, timeout=max(deadline.left(), 0), interval=interval, hint=hint)
            folder = base / s.id.split("/")[1]
            kw = {} if dry_run else dict(timeout=deadline.cap(PUSH_TIMEOUT, "pushing the kernels"))
            v = push_kernel(nb, s.meta, s.params, code_dataset, folder, dry_run=dry_run, overwrite=overwrite, **kw)
            versions[s.id] = v
            log(f"pushed {s.id} version {v}" if v else f"wrote {s.id} to {folder}")
    return versions
