"""`kagglenlp kaggle ...`: code dataset, kernels, fold kernels, rehearsal, status, outputs, models, submit, scores.

Every command checks its input and the credentials before it uploads anything, runs the kaggle CLI with a time
limit that no single call can stretch, and fails (exit 2, one `error:` line) when the CLI's output does not prove
success. Each command's arguments are one dataclass (`options.py`); `push` and `folds` are in `push_cli.py`, the
other commands below; `kagglenlp.cli.main` parses them and handles errors and Ctrl-C.
"""

import dataclasses
import sys
import tempfile
import typing
from pathlib import Path

from ..args import add_dataclass_args, args_to_dataclass
from ..errors import require
from .options import (
    DatasetArgs,
    FoldArgs,
    ModelUploadArgs,
    OutputArgs,
    PushArgs,
    QuotaArgs,
    RehearsalOptions,
    RehearseArgs,
    ScoresArgs,
    StatusArgs,
    SubmitArgs,
)
from .push_cli import folds, push, rehearse_folders

__all__ = ["add_parser"]


def _dataset(a):
    from . import dataset as ds
    from .creds import require_credentials
    from .image import load_profile, package_names
    from .meta import dataset_meta, validate_dataset_meta

    meta = validate_dataset_meta(dataset_meta(a.id, a.title, a.license))
    require(not a.dry_run or a.stage_dir, "--dry-run needs --stage-dir to stage into")
    if not a.dry_run:
        require_credentials()
    if a.stage_dir:
        ds.check_stage_dir(a.stage_dir, a.overwrite)
    root = ds.project_root(a.project)
    print(f"packaging the kagglenlp checkout at {root}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="kagglenlp-dataset-") as tmp:
        wheel = ds.build_wheel(root, Path(tmp) / "own")
        print(f"built {wheel.name}", file=sys.stderr)
        kw = dict(timeout=a.timeout, python_version=a.python_version, platform=a.platform)
        provided = package_names(load_profile("kaggle"))
        deps, unmet = ds.stage_deps(wheel, a.deps or [], Path(tmp) / "deps", provided, a.with_deps, **kw)
        for w, reqs in unmet.items():
            print(
                f"warning: {w} needs {', '.join(reqs)}, which Kaggle's image (kaggle_image.toml) does not list "
                "and nothing staged provides: add --with-deps, or --deps for each",
                file=sys.stderr,
            )
        stage_dir = Path(a.stage_dir) if a.stage_dir else Path(tmp) / "stage"
        staged = ds.stage(stage_dir, meta, [wheel, *deps], a.extra or [], overwrite=a.overwrite)
        names = ", ".join(p.name for p in staged)
        print(f"staged {len(staged)} files in {stage_dir}: {names}", file=sys.stderr)
        if a.dry_run:
            return 0
        how = ds.upload(stage_dir, a.version_notes, public=a.public, timeout=a.timeout)
    from ..paths import kaggle_input_root

    mount = kaggle_input_root() / a.id.split("/")[1]
    print(f"{how} dataset {a.id}; in a kernel: pip install --no-index --find-links {mount} {mount}/*.whl")
    return 0


def _rehearse(a):
    return rehearse_folders(a, a.dirs, a.timeout)


def _status(a):
    from .kernels import FAILED, STATUS_TIMEOUT, status, wait
    from .proc import Deadline

    if a.wait:
        res = wait(a.kernels, timeout=a.timeout, interval=a.interval)
        for k, s in res.items():
            print(f"{k}\t{s}")
        return 0
    deadline, failed = Deadline(a.timeout), False
    for k in a.kernels:
        s, msg = status(k, timeout=deadline.cap(STATUS_TIMEOUT, f"asking for the status of {k}"))
        failed |= s in FAILED
        print(f"{k}\t{s}" + (f"\t{msg}" if msg else ""))
    return 1 if failed else 0


def _model_upload(a):
    from .models import upload_model

    what, inst = upload_model(
        a.folder,
        a.id,
        a.framework,
        a.variation,
        a.version_notes,
        timeout=a.timeout,
        private=not a.public,
        license=a.license,
    )
    print(f"{what}; attach it with --model {inst}/VERSION (see `kaggle models instances versions list {inst}`)")
    return 0


def _quota(a):
    from .kernels import quota

    print(quota(timeout=a.timeout))
    return 0


def _output(a):
    from .kernels import output

    for f in output(a.kernel, a.dir, timeout=a.timeout, overwrite=a.overwrite):
        print(f)
    return 0


def _submit(a):
    from ..leaderboard import tag_message
    from ..results_table import read_results
    from .submit import submit_code, submit_file

    code = bool(a.kernel or a.version)
    named = a.file and not code and Path(a.file).parent.name == "submissions"  # `submissions/NAME.csv`
    exp = a.experiment or (Path(a.file).stem if named else None)
    message = tag_message(a.message, exp)
    require(
        not code or a.sample is None,
        "--sample checks a file submission; a code submission is checked by Kaggle",
    )
    require(code or a.file, "give the submission file (-f), or --kernel and --version for a code competition")
    if exp and exp not in {r["experiment"] for r in read_results()}:
        print(
            f"note: experiment {exp!r} has no row in outputs/results.csv; `kaggle scores` shows no CV for it",
            file=sys.stderr,
        )
    if code:
        msg = submit_code(
            a.competition,
            a.kernel,
            a.version,
            message,
            a.file or "submission.csv",
            timeout=a.timeout,
        )
    else:
        msg = submit_file(a.competition, a.file, message, a.sample, timeout=a.timeout)
    print(msg)
    return 0


def _scores(a):
    from ..leaderboard import cv_lb_correlation, join_cv, parse_submissions, plot_cv_lb
    from ..paths import outputs_dir
    from ..results_table import read_results
    from .submit import list_submissions

    rows = read_results(a.results)
    text = list_submissions(a.competition, a.page_size, timeout=a.timeout)
    if not text.strip():
        print(f"no submissions to {a.competition} yet")
        return 0
    df = join_cv(parse_submissions(text), rows)
    df["status"] = df["status"].str.replace("SubmissionStatus.", "", regex=False)
    shown = df.drop(columns=["message"]).fillna({"experiment": "?"})
    print(shown.to_string(index=False, na_rep="-", float_format=lambda x: f"{x:.4f}"))
    lbs = ["public"] + (["private"] if df["private"].notna().any() else [])
    for lb in lbs:
        r = cv_lb_correlation(df, lb)
        if r:
            print(
                f"CV-{lb} LB correlation over {r['n']} submissions: Pearson {r['pearson']:.3f}, "
                f"Spearman {r['spearman']:.3f}"
            )
        else:
            n = len(df[["cv", lb]].dropna())
            need = f"needs 3 submissions with both a local CV and a {lb} score, {n} have both"
            print(f"CV-{lb} LB correlation: {need}")
    unknown = sorted(set(df.loc[df["cv"].isna() & df["experiment"].notna(), "experiment"]))
    if unknown:
        print(
            f"no CV in {a.results or 'outputs/results.csv'} for: {', '.join(unknown)} (tag submissions with "
            "`kagglenlp kaggle submit --experiment NAME`, or submit submissions/NAME.csv)",
            file=sys.stderr,
        )
    path = Path(a.plot) if a.plot else outputs_dir() / "cv_lb.png"
    plot_cv_lb(df, path)
    print(f"wrote {path}")
    return 0


def _options_only(cls):
    """`cls` without its positional and short-flag fields (`kagglenlp.args` makes every field a `--long-option`),
    for `add_dataclass_args`."""
    hints = typing.get_type_hints(cls)
    keep = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("positional") or f.metadata.get("flags"):
            continue
        keep.append(
            (
                f.name,
                hints[f.name],
                dataclasses.field(default=f.default, default_factory=f.default_factory, metadata=f.metadata),
            )
        )
    own = {f.name for f in dataclasses.fields(RehearsalOptions)}
    keep.sort(key=lambda t: t[0] in own)  # the rehearsal options last in --help
    return dataclasses.make_dataclass(cls.__name__, keep, kw_only=True)


def _add_special(p, cls):
    "Add `cls`'s positional fields as positionals, and its short-flag fields (`-c/--competition`) to parser `p`."
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        help = f.metadata.get("help", "")
        is_list = typing.get_origin(hints[f.name]) is list
        if f.metadata.get("positional"):
            p.add_argument(f.name, nargs="+" if is_list else None, help=help)
        elif f.metadata.get("flags"):
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            flags = [*f.metadata["flags"], "--" + f.name.replace("_", "-")]
            kw = dict(required=True) if required else dict(default=f.default)
            p.add_argument(*flags, dest=f.name, help=help, **kw)


def _command(cmds, name, cls, func, help):
    "Register sub-command `name` taking dataclass `cls`; it runs `func(cls instance)`."
    p = cmds.add_parser(name, help=help, description=help)
    _add_special(p, cls)
    add_dataclass_args(p, _options_only(cls))
    p.set_defaults(func=lambda ns: func(args_to_dataclass(ns, cls)))
    return p


def add_parser(sub):
    "Register `kagglenlp kaggle {dataset,push,folds,rehearse,status,output,model-upload,quota,submit,scores}`."
    p = sub.add_parser(
        "kaggle",
        help="Kaggle plumbing: code dataset, kernels, rehearsal, status, outputs, models, submit, scores",
        description=__doc__.splitlines()[0],
    )
    cmds = p.add_subparsers(dest="cmd", required=True)
    _command(
        cmds,
        "dataset",
        DatasetArgs,
        _dataset,
        "build the kagglenlp wheel (+ offline wheels) and create/version the code dataset",
    )
    _command(cmds, "push", PushArgs, push, "push a notebook as a kernel (internet off, private by default)")
    _command(
        cmds,
        "folds",
        FoldArgs,
        folds,
        "push one training kernel per fold, then the inference kernel fed by them",
    )
    _command(
        cmds,
        "rehearse",
        RehearseArgs,
        _rehearse,
        "run kernel folders written by --dry-run --dir locally, the way Kaggle runs them",
    )
    _command(cmds, "status", StatusArgs, _status, "show (or --wait for) kernels' status")
    _command(cmds, "output", OutputArgs, _output, "download a kernel's outputs and log")
    _command(
        cmds,
        "model-upload",
        ModelUploadArgs,
        _model_upload,
        "upload a save_pretrained folder as a Kaggle Model",
    )
    _command(cmds, "quota", QuotaArgs, _quota, "show the week's GPU/TPU quota used and left (kaggle quota)")
    _command(
        cmds,
        "submit",
        SubmitArgs,
        _submit,
        "submit a checked file, or a kernel version to a code competition",
    )
    _command(
        cmds,
        "scores",
        ScoresArgs,
        _scores,
        "your submissions' public/private scores against each experiment's local CV, their correlation, a scatter",
    )
    return p
