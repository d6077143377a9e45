"""`kagglenlp kaggle push` and `kaggle folds`: check every option and notebook parameter, write the kernel folders,
then push them (`kernels.py`) or, with `--rehearse`, run them locally as Kaggle would (`rehearse.py`).
"""

import dataclasses
import sys
from pathlib import Path

from ..errors import require
from .options import config_params, parse_params

__all__ = ["push", "folds", "rehearse_folders"]


def _sources(a):
    "Dataset sources of `a`, the code dataset included once."
    ds = list(a.dataset or [])
    return ds + ([a.code_dataset] if a.code_dataset and a.code_dataset not in ds else [])


def _check_rehearse(a):
    "Refuse option combinations `--rehearse` cannot honour, before anything is written."
    require(
        not a.rehearse or a.dir,
        "--rehearse needs --dir: the kernel folders are written there, then rehearsed",
    )
    require(
        not (a.rehearse and a.dry_run),
        "--rehearse already writes the folders without pushing; drop --dry-run",
    )


def _image(a):
    "The image profile a rehearsal runs on: `--image`, else Kaggle's (none with `--python`)."
    return a.image or (None if a.python else "kaggle")


def _check_rehearsal(a, metas):
    "Check, before the kernel folders for kernels `metas` are written into `--dir`, that they can be rehearsed."
    from .rehearse import Kernel, check, order_kernels

    kernels = [Kernel(Path(a.dir) / m["id"].split("/")[1], m) for m in metas]
    check(order_kernels(kernels), a.source or [], a.data, a.work, a.overwrite, a.python, _image(a))


def rehearse_folders(a, folders, timeout):
    "Rehearse kernel `folders` with the rehearsal options of `a`."
    from .rehearse import rehearse

    kw = dict(timeout=timeout, overwrite=a.overwrite, image=_image(a))
    rehearse(folders, a.source or [], a.data, a.work, a.python, **kw)
    return 0


def push(a):
    "`kaggle push`: push notebook `a.notebook` as a kernel (or write, rehearse it)."
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
        return rehearse_folders(a, [a.dir], a.rehearse_timeout)
    kw = {} if a.dry_run else dict(timeout=a.timeout)
    v = push_kernel(nb, meta, params, a.code_dataset, a.dir, dry_run=a.dry_run, overwrite=a.overwrite, **kw)
    if a.dry_run:
        print(f"wrote {a.dir}")
    else:
        print(f"pushed {a.id} version {v}; follow it with: kagglenlp kaggle status {a.id}/{v} --wait")
    return 0


def folds(a):
    """`kaggle folds`: push a training kernel per fold, then the inference kernel fed by them (or write, rehearse
    them)."""
    from .kernels import check_kernel_dir, push_folds, read_notebook
    from .meta import accelerator_settings, check_params, check_settings, fold_kernels
    from .proc import Deadline

    deadline = Deadline(a.timeout)
    require(not (a.skip_folds and a.only), "--skip-folds and --only exclude each other")
    require(a.skip_folds or not a.fold_version, "--fold-version goes with --skip-folds")
    require(
        not (a.weights and (a.only or a.skip_folds)),
        "--weights pushes no fold kernel: drop --only/--skip-folds",
    )
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
        return rehearse_folders(a, folders, max(deadline.left(), 1))
    if not push_inf:
        print(
            "fold kernels pushed; when they are complete push the inference kernel with the same command plus "
            "--skip-folds (or use --wait next time)"
        )
    return 0
