"""Pure builders: kernel and dataset metadata dicts, notebooks ready to push, the fold-kernel set.

Nothing here touches the network or the disk. The checks mirror the kaggle CLI's own (`kernels push`,
`datasets create`) so a bad id or title fails here, before any upload, with one message listing it all.
Where a kernel's sources are mounted on Kaggle is asked of `kagglenlp.paths`; only the generated install cell,
which runs before kagglenlp is installed, reads the mount root itself (see `install_cell`).
"""

import copy
import json
import re
from dataclasses import dataclass, field

from .. import paths
from ..errors import UserError

__all__ = [
    "slugify",
    "title_for",
    "split_id",
    "accelerator_settings",
    "kernel_meta",
    "validate_kernel_meta",
    "dataset_meta",
    "validate_dataset_meta",
    "prepare_notebook",
    "inject_parameters",
    "install_cell",
    "notebook_parameters",
    "check_params",
    "notebook_config",
    "check_settings",
    "KernelSpec",
    "fold_kernels",
    "dumps",
    "KERNEL_TYPES",
    "LANGUAGES",
    "PINNING_TYPES",
    "KERNELSPEC",
    "DEFAULT_GPU",
    "SPLIT_PARAMS",
]

KERNEL_TYPES = ["script", "notebook"]  # the CLI's valid_push_kernel_types
LANGUAGES = ["python", "r", "rmarkdown"]  # valid_push_language_types
PINNING_TYPES = ["original", "latest"]
# papermill on Kaggle needs `name`
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # the CLI's _validate_slug_syntax
OWNER_RE = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
SHAPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# `kernels push` sends metadata `machine_shape` (or `--accelerator`) as the machine; without one Kaggle picks the
# GPU, and API pushes have been given a P100, which the current image's PyTorch cannot use (no sm_60 kernels).
DEFAULT_GPU = "NvidiaTeslaT4"  # T4 x2: fp16, no bf16
UNUSABLE_SHAPES = {"nvidiateslap100": "the current Kaggle image's PyTorch has no kernels for the P100 (sm_60)"}
# Parameters of the training notebook that define the fold split: every fold kernel of one set gets the same
# values.
SPLIT_PARAMS = ("folds", "split", "seed")
# The settings dataclass a notebook builds from its parameters, found by the call in its code: (module, class, the
# parameters it passes to it as they are, besides the dict `settings`).
CONFIG_CALLS = {
    "patents_config(": ("kagglenlp.patents.config", "PatentsConfig", ("model", "name", "fold", *SPLIT_PARAMS)),
    "UlmfitConfig(": ("kagglenlp.imdb.config", "UlmfitConfig", ("name",)),
}


def slugify(title):
    "Kaggle's slug of `title` (the CLI uses python-slugify: lower case, runs of other characters become `-`)."
    try:
        from slugify import slugify as _slugify

        return _slugify(title)
    except ImportError:
        return re.sub(r"[^a-z0-9]+", "-", title.lower().replace("'", "")).strip("-")


def title_for(slug):
    "A title whose slug is `slug` (`uspppm-fold0` -> `Uspppm Fold0`)."
    return " ".join(w.capitalize() for w in slug.split("-"))


def split_id(ref, what="kernel"):
    "`owner/slug` -> `(owner, slug)`, or `UserError`."
    parts = str(ref).split("/")
    if len(parts) != 2 or not all(parts):
        raise UserError(f"{what} id must look like owner/slug, got {ref!r}")
    return parts[0], parts[1]


def _id_problems(ref, what, min_len, max_len=None):
    parts = str(ref).split("/")
    if len(parts) != 2 or not all(parts):
        return [f"{what} id must look like owner/slug, got {ref!r}"]
    owner, slug = parts
    errs = []
    if not OWNER_RE.match(owner):
        errs.append(f"{what} owner {owner!r} must be lower-case letters, digits, - or _")
    if not SLUG_RE.match(slug):
        errs.append(f"{what} slug {slug!r} must be lower-case letters, digits and single hyphens")
    if len(slug) < min_len or (max_len and len(slug) > max_len):
        errs.append(
            f"{what} slug {slug!r} must be {min_len}" + (f"-{max_len}" if max_len else "+") + " characters",
        )
    return errs


def accelerator_settings(gpu=False, accelerator=None):
    """`(enable_gpu, enable_tpu, machine_shape)` for `--gpu` / `--accelerator SHAPE`: `--gpu` alone means T4 x2
    (`DEFAULT_GPU`); a shape alone turns on the GPU (`Nvidia...`) or TPU (`Tpu...`) it names; neither: CPU."""
    if not accelerator:
        return bool(gpu), False, DEFAULT_GPU if gpu else None
    if not SHAPE_RE.match(accelerator):
        raise UserError(f"--accelerator {accelerator!r} is not a machine shape such as {DEFAULT_GPU} or TpuV5E8")
    why = UNUSABLE_SHAPES.get(accelerator.lower())
    if why:
        raise UserError(f"--accelerator {accelerator}: {why}; use {DEFAULT_GPU} (T4 x2, fp16, no bf16)")
    tpu = accelerator.lower().startswith("tpu")
    if gpu and tpu:
        raise UserError(f"--gpu and --accelerator {accelerator} (a TPU) exclude each other")
    return not tpu, tpu, accelerator


def kernel_meta(
    id,
    code_file,
    title=None,
    enable_gpu=False,
    enable_internet=False,
    is_private=True,
    dataset_sources=(),
    competition_sources=(),
    kernel_sources=(),
    model_sources=(),
    kernel_type="notebook",
    language="python",
    machine_shape=None,
    enable_tpu=False,
):
    """The `kernel-metadata.json` dict for kernel `id` (`owner/slug`) running `code_file`; internet off, private by
    default. `machine_shape` (e.g. `NvidiaTeslaT4`) is what `kaggle kernels push` sends as the machine."""
    m = dict(
        id=id,
        title=title or title_for(str(id).split("/")[-1]),
        code_file=code_file,
        language=language,
        kernel_type=kernel_type,
        is_private=is_private,
        enable_gpu=enable_gpu,
        enable_tpu=enable_tpu,
        enable_internet=enable_internet,
        dataset_sources=list(dataset_sources),
        competition_sources=list(competition_sources),
        kernel_sources=list(kernel_sources),
        model_sources=list(model_sources),
    )
    if machine_shape:
        m["machine_shape"] = machine_shape
    return m


def validate_kernel_meta(m):
    """Raise `UserError` listing every way `m` breaks the kaggle CLI's push rules (plus: title's slug must be the
    id's)."""
    errs = _id_problems(m.get("id", ""), "kernel", 5)
    title = m.get("title") or ""
    if len(title) < 5:
        errs.append(f"kernel title {title!r} must be at least 5 characters")
    slug = str(m.get("id", "")).split("/")[-1]
    if title and slugify(title) != slug:
        errs.append(
            f"kernel title {title!r} has slug {slugify(title)!r}, not the id's {slug!r} (Kaggle would rename it)"
        )
    if not m.get("code_file"):
        errs.append("code_file is missing")
    if m.get("language") not in LANGUAGES:
        errs.append(f"language must be one of {LANGUAGES}, got {m.get('language')!r}")
    if m.get("kernel_type") not in KERNEL_TYPES:
        errs.append(f"kernel_type must be one of {KERNEL_TYPES}, got {m.get('kernel_type')!r}")
    for k in ("is_private", "enable_gpu", "enable_tpu", "enable_internet"):
        if k in m and not isinstance(m[k], bool):
            errs.append(f"{k} must be true or false, got {m[k]!r}")
    p = m.get("docker_image_pinning_type")
    if p is not None and p not in PINNING_TYPES:
        errs.append(f"docker_image_pinning_type must be one of {PINNING_TYPES}")
    for s in m.get("dataset_sources", []):
        parts = s.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            errs.append(f"dataset source {s!r} must be owner/slug[/version]")
    for s in m.get("kernel_sources", []):
        parts = s.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            errs.append(f"kernel source {s!r} must be owner/slug[/version]")
        elif len(parts[1]) < 5:
            errs.append(f"kernel source {s!r}: slug must be at least 5 characters")
    for s in m.get("model_sources", []):
        parts = s.split("/")
        if len(parts) != 5 or not all(parts) or not parts[4].isdigit():
            errs.append(f"model source {s!r} must be owner/model/framework/variation/VERSION")
    for s in m.get("competition_sources", []):
        if not SLUG_RE.match(s):
            errs.append(f"competition source {s!r} must be a competition slug")
    if m.get("id") in m.get("kernel_sources", []):
        errs.append("a kernel cannot be its own kernel source")
    shape = m.get("machine_shape")
    if shape is not None and not (isinstance(shape, str) and SHAPE_RE.match(shape)):
        errs.append(f"machine_shape must be a machine shape such as {DEFAULT_GPU}, got {shape!r}")
    if shape and not (m.get("enable_gpu") or m.get("enable_tpu")):
        errs.append(f"machine_shape {shape!r} needs enable_gpu or enable_tpu")
    if errs:
        raise UserError("invalid kernel metadata:\n  " + "\n  ".join(errs))
    return m


def dataset_meta(id, title=None, license="CC0-1.0", description=None):
    "The `dataset-metadata.json` dict for dataset `id` (`owner/slug`)."
    m = dict(id=id, title=title or title_for(str(id).split("/")[-1]), licenses=[{"name": license}])
    if description:
        m["description"] = description
    return m


def validate_dataset_meta(m):
    """Raise `UserError` unless `m` passes `kaggle datasets create`'s checks (slug, title 6-50 characters, one
    license)."""
    errs = _id_problems(m.get("id", ""), "dataset", 6, 50)
    title = m.get("title") or ""
    if not 6 <= len(title) <= 50:
        errs.append(f"dataset title {title!r} must be 6-50 characters")
    if len(m.get("licenses") or []) != 1 or not m["licenses"][0].get("name"):
        errs.append("give exactly one license name")
    if errs:
        raise UserError("invalid dataset metadata:\n  " + "\n  ".join(errs))
    return m


def prepare_notebook(nb):
    "Copy of notebook dict `nb` with outputs and execution counts cleared and the python3 kernelspec set."
    nb = copy.deepcopy(nb)
    md = nb.setdefault("metadata", {})
    ks = md.get("kernelspec") or {}
    md["kernelspec"] = {**KERNELSPEC, **{k: v for k, v in ks.items() if k == "display_name" and v}}
    md.setdefault("language_info", {"name": "python"})
    for c in nb.get("cells", []):
        if c.get("cell_type") == "code":
            c["outputs"], c["execution_count"] = [], None
    return nb


def _tags(c):
    return c.get("metadata", {}).get("tags", [])


def _code_cell(nb, source, tag):
    c = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [tag]},
        "outputs": [],
        "source": source,
    }
    if (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) >= (4, 5):
        c["id"] = tag  # cell ids exist from 4.5 on
    return c


def notebook_parameters(nb):
    "Names the cell tagged `parameters` of notebook `nb` assigns (None when it has no such cell)."
    import ast

    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code" and "parameters" in _tags(c)]
    if not cells:
        return None
    src = "".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in cells)
    try:
        tree = ast.parse(src)
    except SyntaxError as e:
        raise UserError(f"the notebook's parameters cell is not valid Python: {e}") from None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for tgt in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(tgt) if isinstance(n, ast.Name)}
    return names


def check_params(nb, params, what="the notebook"):
    "Refuse `params` names that the parameters cell of `nb` does not define (a typo would be injected silently)."
    if not params:
        return
    names = notebook_parameters(nb)
    if names is None:
        raise UserError(f"{what} has no cell tagged `parameters`, so --param {', '.join(params)} would do nothing")
    bad = sorted(set(params) - names)
    if bad:
        import difflib

        hints = [f"{b} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(b, names, 1)) else b for b in bad]
        raise UserError(
            f"unknown parameter(s) for {what}: {', '.join(hints)}; its parameters cell defines "
            + ", ".join(sorted(names))
        )


def notebook_config(nb):
    """`(dataclass, parameters passed as they are)` notebook `nb` builds its settings with (a call of
    `CONFIG_CALLS` in its code), or None."""
    import importlib

    code = "".join(
        c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
    )
    for call, (module, cls, passed) in CONFIG_CALLS.items():
        if call in code:
            return getattr(importlib.import_module(module), cls), passed
    return None


def check_settings(nb, params, what="the notebook"):
    """Refuse `params` that the settings dataclass `nb` builds (`notebook_config`) would refuse when the kernel
    runs: a `settings` key that is no field of it (with did-you-mean) or is one of the notebook's own
    parameters, a value of the wrong type or outside its choices or range, for `settings` and the parameters
    passed to it; a `text` may name an input step a cell of `nb` defines (`patents.steps`). Nothing to check
    when the notebook builds no known dataclass."""
    import dataclasses
    import difflib
    import typing

    from ..args import _check_value, config_to_dataclass

    found = notebook_config(nb) if params else None
    if found is None:
        return
    cls, passed = found
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    settings = params.get("settings", {})
    if not isinstance(settings, dict):
        raise UserError(f"--param settings for {what} must be a dict of {cls.__name__} settings, got {settings!r}")
    own = notebook_parameters(nb) or set()
    from ..patents.steps import declared, notebook_steps

    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    mine = notebook_steps("".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells)
    vals = {}
    for k, v in settings.items():
        if k not in fields:
            near = difflib.get_close_matches(str(k), fields, n=1, cutoff=0.5)
            hint = f"did you mean {near[0]!r}?" if near else f"valid keys: {', '.join(fields)}"
            raise UserError(f"--param settings for {what}: {cls.__name__} has no setting {k!r}; {hint}")
        if k in own:
            raise UserError(f"--param settings for {what}: give {k!r} as its own parameter (--param {k}=...)")
        choices = fields[k].metadata.get("choices")
        choices = (*choices, *mine) if choices and k == "text" else choices  # and the notebook's own input steps
        vals[k] = _check_value(k, v, hints[k], choices, f"--param settings for {what}")
    for k, v in params.items():
        if k in passed and v is not None:
            vals[k] = _check_value(k, v, hints[k], fields[k].metadata.get("choices"), f"--param for {what}")
    required = {k: "." for k, f in fields.items() if f.default is dataclasses.MISSING and k not in vals}
    required = {k: v for k, v in required.items() if fields[k].default_factory is dataclasses.MISSING}
    try:
        with declared(mine):  # the steps its cells define exist once it runs
            config_to_dataclass(cls, None, **required, **vals)  # its own checks: ranges, choices, combinations
    except UserError as e:
        raise UserError(f"the settings given to {what}: {e}") from None


def inject_parameters(nb, **params):
    """Copy of `nb` with a code cell tagged `injected-parameters` (papermill's convention) setting `params`, placed
    right after the cell tagged `parameters` (or first); an older injected cell is removed."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.get("cells", []) if "injected-parameters" not in _tags(c)]
    src = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
    i = next((i + 1 for i, c in enumerate(cells) if "parameters" in _tags(c)), 0)
    cells.insert(i, _code_cell(nb, src, "injected-parameters"))
    nb["cells"] = cells
    return nb


# The install cell runs on Kaggle before kagglenlp is installed, so it cannot ask `kagglenlp.paths` where the
# mounts are: it reads the same setting itself (`KAGGLENLP_KAGGLE_ROOT`, default `/kaggle`, which the local
# rehearsal of a kernel points at a stand-in folder) and looks for the code dataset in both layouts
# `paths.kaggle_input` knows.
INSTALL_SRC = """# Install the staged wheels ({package}, any --deps) offline from the code dataset (Kaggle: no internet)
import glob, importlib, os, subprocess, sys
if os.environ.get("KAGGLE_KERNEL_RUN_TYPE"):
    _inp = os.path.join(os.environ.get("KAGGLENLP_KAGGLE_ROOT") or "/kaggle", "input")
    _d = glob.glob(os.path.join(_inp, "{slug}")) + glob.glob(os.path.join(_inp, "datasets", "*", "{slug}"))
    if not _d:
        raise FileNotFoundError("code dataset {slug} is not attached to this kernel (looked under " + _inp + ")")
    _whl = sorted(glob.glob(os.path.join(_d[0], "*.whl")))
    _own = [w for w in _whl if os.path.basename(w).startswith("{package}-")]
    if len(_own) != 1:
        raise FileNotFoundError("expected one {package} wheel in " + _d[0] + ", found " + str(_own))
    def _pip(*args):  # pip's own message in the error (and so in the kernel's log) when it refuses
        _r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", _d[0], *args],
                            capture_output=True, text=True)
        if _r.returncode:
            _why = "\\n".join((_r.stdout + _r.stderr).strip().splitlines()[-8:])
            raise RuntimeError("pip cannot install the staged wheels on this image:\\n" + _why)
    _pip(*_whl)  # every staged wheel; pip checks each one's requirements against the image
    _v = os.path.basename(_own[0]).split("-")[1]
    importlib.invalidate_caches()
    import importlib.metadata as _md
    if _md.version("{package}") != _v:  # an installed build of the same version: replace it with the staged one
        _pip("--force-reinstall", "--no-deps", _own[0])
    import {package}
    _files = str(_md.distribution("{package}").locate_file("{package}"))
    if _md.version("{package}") != _v or not {package}.__file__.startswith(_files):
        raise ImportError("{package} " + _v + " was staged but " + {package}.__file__ + " is imported")
    print("installed", os.path.basename(_own[0]), "and", len(_whl) - 1, "more staged wheels")
"""


def install_cell(nb, dataset_slug, package="kagglenlp"):
    """Copy of `nb` whose first cell pip-installs `package` offline from code dataset `dataset_slug` (mounted at
    `<root>/input/<slug>` or `<root>/input/datasets/<owner>/<slug>`) when on Kaggle; an older one is replaced."""
    if not (SLUG_RE.match(dataset_slug) and re.match(r"^[A-Za-z0-9_.-]+$", package)):
        raise UserError(f"bad code dataset slug {dataset_slug!r} or package {package!r}")
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.get("cells", []) if "kagglenlp-install" not in _tags(c)]
    src = INSTALL_SRC.format(package=package, slug=dataset_slug)
    nb["cells"] = [_code_cell(nb, src, "kagglenlp-install")] + cells
    return nb


@dataclass
class KernelSpec:
    "One kernel to push: its metadata and the parameters injected into its notebook."

    meta: dict
    params: dict = field(default_factory=dict)
    role: str = "fold"  # fold | inference

    @property
    def id(self):
        return self.meta["id"]


def _check_fold_params(params, n_folds):
    "Refuse training parameters that `fold_kernels` sets itself, or that would differ between the fold kernels."
    for k in ("fold", "folds"):
        if k in params:
            raise UserError(f"--param {k}=... is set by `folds` itself (use --folds N and --only K)")
    settings = params.get("settings") or {}
    if not isinstance(settings, dict):
        raise UserError(f"--param settings=... must be a dict of training settings, got {settings!r}")
    clash = sorted({"fold", "folds", *SPLIT_PARAMS} & set(settings))
    if clash:
        raise UserError(
            f"settings {clash} must be notebook parameters of their own (--param NAME=VALUE), not settings",
        )
    if n_folds < 2:
        raise UserError(f"--folds must be at least 2, got {n_folds}")


def fold_kernels(
    id_prefix,
    n_folds,
    folds=None,
    train_code="train.ipynb",
    infer_code="inference.ipynb",
    params=None,
    infer_params=None,
    dataset_sources=(),
    competition_sources=(),
    model_sources=(),
    enable_gpu=False,
    enable_internet=False,
    infer_gpu=None,
    machine_shape=None,
    enable_tpu=False,
    weights=(),
):
    """Specs of one training kernel per fold (`<prefix>-fold<k>`, parameters `fold=k` and `folds=n_folds` on top
    of `params`, so every setting that defines the split is the same in every fold kernel) and an inference
    kernel (`<prefix>-infer`) whose `kernel_sources` are all `n_folds` fold kernels and whose `model_dirs` are
    their Kaggle mounts. `folds` picks the training kernels to (re)build; the inference kernel never has
    internet (code competitions). With `weights` (Kaggle Model instance versions
    `owner/model/framework/variation/VERSION`, e.g. one per fold uploaded with `kaggle model-upload`) the
    inference kernel reads the fold models from those instead: they are its extra `model_sources` and its
    `model_dirs` their mounts, and it has no fold kernel as a source."""
    params = dict(params or {})
    _check_fold_params(params, n_folds)
    folds = list(range(n_folds)) if folds is None else list(folds)
    bad = [k for k in folds if not 0 <= k < n_folds]
    if bad or not folds:
        raise UserError(f"folds must be a non-empty subset of 0..{n_folds - 1}, got {folds}")
    if len(set(folds)) != len(folds):
        raise UserError(f"folds repeat: {folds}")
    common = dict(
        dataset_sources=dataset_sources,
        competition_sources=competition_sources,
        model_sources=model_sources,
    )
    hw = dict(enable_gpu=enable_gpu, enable_tpu=enable_tpu, machine_shape=machine_shape)
    specs = []
    for k in folds:
        m = kernel_meta(f"{id_prefix}-fold{k}", train_code, enable_internet=enable_internet, **hw, **common)
        specs.append(KernelSpec(m, {**params, "folds": n_folds, "fold": k}, "fold"))
    # inference reads every fold, also after a partial re-run
    ids = [f"{id_prefix}-fold{k}" for k in range(n_folds)]
    if infer_gpu is not None and not infer_gpu:
        hw = dict(enable_gpu=False, enable_tpu=False, machine_shape=None)
    if weights:
        bad = [w for w in weights if len(str(w).split("/")) != 5 or not str(w).split("/")[4].isdigit()]
        if bad:
            raise UserError(
                f"--weights {', '.join(bad)}: give Kaggle Model versions owner/model/framework/variation/N",
            )
        ids, common["model_sources"] = [], [*model_sources, *(w for w in weights if w not in model_sources)]
    m = kernel_meta(f"{id_prefix}-infer", infer_code, enable_internet=False, kernel_sources=ids, **hw, **common)
    dirs = [str(paths.model_mount(w)) for w in weights] or [str(paths.kernel_output_dir(i)) for i in ids]
    specs.append(KernelSpec(m, {**(infer_params or {}), "model_dirs": dirs}, "inference"))
    for s in specs:
        validate_kernel_meta(s.meta)
    return specs


def dumps(obj):
    "Stable JSON text for metadata files."
    return json.dumps(obj, indent=2) + "\n"
