"""`kagglenlp kaggle ...`: code dataset, kernel push, fold kernels, status, outputs, submissions.

Every command checks its input and the credentials before it uploads anything, runs the kaggle CLI with a
timeout, and fails (exit 2, one `error:` line) when the CLI's output does not prove success.
"""
import argparse
import ast
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from ..cli import add_dataclass_args, args_to_dataclass
from ..errors import UserError, require

__all__ = ["add_parser", "main", "DatasetArgs", "KernelArgs", "FoldArgs", "parse_params"]


@dataclass
class DatasetArgs:
    id: str = field(metadata={"help": "code dataset owner/slug (slug 6-50 characters)"})
    title: Optional[str] = field(default=None, metadata={"help": "dataset title (default: from the slug)"})
    license: str = field(default="CC0-1.0", metadata={"help": "dataset license name"})
    with_deps: bool = field(default=False, metadata={"help": "also stage wheels of kagglenlp's dependencies for Kaggle's Python"})
    deps: Optional[List[str]] = field(default=None, metadata={"help": "extra requirement specs whose wheels to stage (Kaggle lacks them)"})
    extra: Optional[List[str]] = field(default=None, metadata={"help": "extra files to stage as they are"})
    version_notes: str = field(default="kagglenlp code", metadata={"help": "notes of a new dataset version"})
    stage_dir: Optional[str] = field(default=None, metadata={"help": "empty folder to stage into (default: a temporary one)"})
    project: Optional[str] = field(default=None, metadata={"help": "kagglenlp project root to build (default: this checkout)"})
    python_version: str = field(default="3.11", metadata={"help": "Kaggle's Python, for dependency wheels"})
    platform: str = field(default="manylinux_2_17_x86_64", metadata={"help": "Kaggle's platform tag, for dependency wheels"})
    public: bool = field(default=False, metadata={"help": "make a new dataset public"})
    dry_run: bool = field(default=False, metadata={"help": "stage and check only; needs --stage-dir"})
    timeout: float = field(default=900, metadata={"help": "seconds allowed for each upload step"})


@dataclass
class KernelArgs:
    id: str = field(metadata={"help": "kernel owner/slug (slug at least 5 characters)"})
    title: Optional[str] = field(default=None, metadata={"help": "kernel title; its slug must be the id's (default: from the slug)"})
    gpu: bool = field(default=False, metadata={"help": "run on a GPU"})
    internet: bool = field(default=False, metadata={"help": "let the kernel reach the internet (code-competition submissions must not)"})
    private: bool = field(default=True, metadata={"help": "keep the kernel private"})
    dataset: Optional[List[str]] = field(default=None, metadata={"help": "dataset sources owner/slug"})
    competition: Optional[List[str]] = field(default=None, metadata={"help": "competition sources (slugs)"})
    kernel: Optional[List[str]] = field(default=None, metadata={"help": "kernel sources owner/slug"})
    model: Optional[List[str]] = field(default=None, metadata={"help": "model sources owner/model/framework/variation/version"})
    code_dataset: Optional[str] = field(default=None, metadata={"help": "code dataset owner/slug: added as a source, kagglenlp installed from it"})
    param: Optional[List[str]] = field(default=None, metadata={"help": "notebook parameters NAME=VALUE (Python literals) injected papermill-style"})
    dir: Optional[str] = field(default=None, metadata={"help": "empty folder to write the kernel into (default: a temporary one)"})
    accelerator: Optional[str] = field(default=None, metadata={"help": "machine shape passed to kaggle kernels push --accelerator"})
    dry_run: bool = field(default=False, metadata={"help": "write the kernel folder only; needs --dir"})
    timeout: float = field(default=300, metadata={"help": "seconds allowed for the push"})


@dataclass
class FoldArgs:
    notebook: str = field(metadata={"help": "training notebook (parameters cell with `fold`)"})
    inference: str = field(metadata={"help": "inference notebook (parameters cell with `model_dirs`)"})
    id_prefix: str = field(metadata={"help": "owner/prefix: kernels are <prefix>-fold<k> and <prefix>-infer"})
    folds: int = field(default=5, metadata={"help": "number of folds"})
    only: Optional[List[int]] = field(default=None, metadata={"help": "push only these folds"})
    gpu: bool = field(default=False, metadata={"help": "run the kernels on GPUs"})
    internet: bool = field(default=False, metadata={"help": "internet for the fold kernels (never for the inference kernel)"})
    dataset: Optional[List[str]] = field(default=None, metadata={"help": "dataset sources owner/slug"})
    competition: Optional[List[str]] = field(default=None, metadata={"help": "competition sources (slugs)"})
    model: Optional[List[str]] = field(default=None, metadata={"help": "model sources"})
    code_dataset: Optional[str] = field(default=None, metadata={"help": "code dataset owner/slug to install kagglenlp from"})
    param: Optional[List[str]] = field(default=None, metadata={"help": "training notebook parameters NAME=VALUE"})
    infer_param: Optional[List[str]] = field(default=None, metadata={"help": "inference notebook parameters NAME=VALUE"})
    wait: bool = field(default=False, metadata={"help": "wait for the fold kernels, then push the inference kernel"})
    skip_folds: bool = field(default=False, metadata={"help": "push only the inference kernel (the folds ran already)"})
    timeout: float = field(default=6 * 3600, metadata={"help": "seconds to wait for the fold kernels"})
    interval: float = field(default=60, metadata={"help": "seconds between status polls"})
    dir: Optional[str] = field(default=None, metadata={"help": "empty folder to write the kernel folders into"})
    dry_run: bool = field(default=False, metadata={"help": "write the kernel folders only; needs --dir"})


def parse_params(items):
    "`['fold=1', 'model=\"x\"', 'name=run1']` -> `{'fold': 1, 'model': 'x', 'name': 'run1'}` (literals, else strings)."
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        require(sep and k.isidentifier(), f"parameter {it!r} must look like NAME=VALUE")
        try: out[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError): out[k] = v
    return out


def _dataset(ns):
    from . import dataset as ds
    from .meta import dataset_meta, validate_dataset_meta
    from .creds import require_credentials
    a = args_to_dataclass(ns, DatasetArgs)
    meta = validate_dataset_meta(dataset_meta(a.id, a.title, a.license))
    require(not a.dry_run or a.stage_dir, "--dry-run needs --stage-dir to stage into")
    if not a.dry_run: require_credentials()
    root = ds.project_root(a.project) if a.project else ds.project_root()
    with tempfile.TemporaryDirectory(prefix="kagglenlp-dataset-") as tmp:
        wheel = ds.build_wheel(root, Path(tmp)/"own")
        print(f"built {wheel.name}", file=sys.stderr)
        specs = ([str(wheel)] if a.with_deps else []) + list(a.deps or [])
        deps = ds.download_wheels(specs, Path(tmp)/"deps", timeout=a.timeout, python_version=a.python_version,
                                  platform=a.platform) if specs else []
        deps = [d for d in deps if d.name != wheel.name]
        stage_dir = Path(a.stage_dir) if a.stage_dir else Path(tmp)/"stage"
        staged = ds.stage(stage_dir, meta, [wheel, *deps], a.extra or [])
        print(f"staged {len(staged)} files in {stage_dir}: " + ", ".join(p.name for p in staged), file=sys.stderr)
        if a.dry_run: return 0
        how = ds.upload(stage_dir, a.version_notes, public=a.public, timeout=a.timeout)
    print(f"{how} dataset {a.id}; in a kernel: pip install --no-index --find-links /kaggle/input/{a.id.split('/')[1]} kagglenlp")
    return 0


def _sources(a):
    "Dataset sources of `a`, the code dataset included once."
    ds = list(a.dataset or [])
    return ds + ([a.code_dataset] if a.code_dataset and a.code_dataset not in ds else [])


def _kernel_meta(a, code_file):
    from .meta import kernel_meta, validate_kernel_meta
    sources = _sources(a)
    return validate_kernel_meta(kernel_meta(a.id, code_file, a.title, enable_gpu=a.gpu, enable_internet=a.internet,
                                            is_private=a.private, dataset_sources=sources,
                                            competition_sources=a.competition or [], kernel_sources=a.kernel or [],
                                            model_sources=a.model or []))


def _push(ns):
    from .kernels import push_kernel
    a = args_to_dataclass(ns, KernelArgs)
    nb = Path(ns.notebook)
    require(nb.suffix == ".ipynb", f"{nb} is not a notebook (.ipynb)")
    meta = _kernel_meta(a, nb.name)
    v = push_kernel(nb, meta, parse_params(a.param), a.code_dataset, a.dir, dry_run=a.dry_run,
                    timeout=a.timeout, accelerator=a.accelerator)
    print(f"wrote {a.dir}" if a.dry_run else f"pushed {a.id} version {v}")
    return 0


def _folds(ns):
    from .kernels import push_folds
    from .meta import fold_kernels
    a = args_to_dataclass(ns, FoldArgs)
    require(not (a.skip_folds and a.only), "--skip-folds and --only exclude each other")
    require(not a.dry_run or a.dir, "--dry-run needs --dir to write the kernel folders into")
    sources = _sources(a)
    specs = fold_kernels(a.id_prefix, a.folds, a.only, Path(a.notebook).name, Path(a.inference).name,
                         params=parse_params(a.param), infer_params=parse_params(a.infer_param),
                         dataset_sources=sources, competition_sources=a.competition or [],
                         model_sources=a.model or [], enable_gpu=a.gpu, enable_internet=a.internet)
    push_inf = a.wait or a.skip_folds or a.dry_run
    push_folds(specs, a.notebook, a.inference, a.code_dataset, a.dir, push_folds=not a.skip_folds,
               push_inference=push_inf, wait_timeout=a.timeout if a.wait else None, interval=a.interval,
               dry_run=a.dry_run)
    if not push_inf:
        print("fold kernels pushed; when they are complete push the inference kernel with the same command plus "
              "--skip-folds (or use --wait next time)")
    return 0


def _status(ns):
    from .kernels import FAILED, status, wait
    if ns.wait:
        res = wait(ns.kernels, timeout=ns.timeout, interval=ns.interval)
        for k, s in res.items(): print(f"{k}\t{s}")
        return 0
    failed = False
    for k in ns.kernels:
        s, msg = status(k)
        failed |= s in FAILED
        print(f"{k}\t{s}" + (f"\t{msg}" if msg else ""))
    return 1 if failed else 0


def _output(ns):
    from .kernels import output
    files = output(ns.kernel, ns.dir, timeout=ns.timeout, overwrite=ns.overwrite)
    for f in files: print(f)
    return 0


def _submit(ns):
    from .submit import submit_code, submit_file
    if ns.kernel or ns.version:
        require(ns.sample is None, "--sample checks a file submission; a code submission is checked by Kaggle")
        msg = submit_code(ns.competition, ns.kernel, ns.version, ns.message, ns.file or "submission.csv", timeout=ns.timeout)
    else:
        require(ns.file, "give the submission file (-f), or --kernel and --version for a code competition")
        msg = submit_file(ns.competition, ns.file, ns.message, ns.sample, timeout=ns.timeout)
    print(msg)
    return 0


def add_parser(sub):
    "Register `kagglenlp kaggle {dataset,push,folds,status,output,submit}`."
    p = sub.add_parser("kaggle", help="Kaggle plumbing: code dataset, kernels, status, outputs, submit",
                       description=__doc__.splitlines()[0])
    cmds = p.add_subparsers(dest="cmd", required=True)

    c = cmds.add_parser("dataset", help="build the kagglenlp wheel (+ offline wheels) and create/version the code dataset")
    add_dataclass_args(c, DatasetArgs).set_defaults(func=_dataset)

    c = cmds.add_parser("push", help="push a notebook as a kernel (internet off, private by default)")
    c.add_argument("notebook", help="the .ipynb to push")
    add_dataclass_args(c, KernelArgs).set_defaults(func=_push)

    c = cmds.add_parser("folds", help="push one training kernel per fold, then the inference kernel fed by them")
    add_dataclass_args(c, FoldArgs).set_defaults(func=_folds)

    c = cmds.add_parser("status", help="show (or --wait for) kernels' status")
    c.add_argument("kernels", nargs="+", help="owner/slug")
    c.add_argument("--wait", action="store_true", help="poll until complete or error")
    c.add_argument("--timeout", type=float, default=3600, help="seconds to wait (default: 3600)")
    c.add_argument("--interval", type=float, default=30, help="seconds between polls (default: 30)")
    c.set_defaults(func=_status)

    c = cmds.add_parser("output", help="download a kernel's outputs and log")
    c.add_argument("kernel", help="owner/slug")
    c.add_argument("--dir", required=True, help="folder to download into (must be empty)")
    c.add_argument("--overwrite", action="store_true", help="allow a non-empty --dir, replacing files")
    c.add_argument("--timeout", type=float, default=1800, help="seconds allowed (default: 1800)")
    c.set_defaults(func=_output)

    c = cmds.add_parser("submit", help="submit a checked file, or a kernel version to a code competition")
    c.add_argument("-c", "--competition", required=True, help="competition slug")
    c.add_argument("-f", "--file", help="submission file (for a code competition: the kernel's output file name)")
    c.add_argument("-m", "--message", required=True, help="submission message")
    c.add_argument("--sample", help="sample_submission.csv to check the file against (default: the competition's input)")
    c.add_argument("-k", "--kernel", help="code competition: kernel owner/slug")
    c.add_argument("-v", "--version", help="code competition: kernel version (from push)")
    c.add_argument("--timeout", type=float, default=600, help="seconds allowed (default: 600)")
    c.set_defaults(func=_submit)
    return p


def main(argv=None):
    "Run `kagglenlp kaggle ARGV...` alone (the `scripts/kaggle_*.py` entry points); `UserError` -> `error:` line, exit 2."
    p = argparse.ArgumentParser(prog="kagglenlp")
    add_parser(p.add_subparsers(dest="pipeline", required=True))
    ns = p.parse_args(["kaggle", *(sys.argv[1:] if argv is None else argv)])
    try:
        res = ns.func(ns)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return res if isinstance(res, int) else 0
