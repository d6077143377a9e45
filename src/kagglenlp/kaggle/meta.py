"""Pure builders: kernel and dataset metadata dicts, notebooks ready to push, the fold-kernel set.

Nothing here touches the network or the disk. The checks mirror the kaggle CLI's own (`kernels push`,
`datasets create`) so a bad id or title fails here, before any upload, with one message listing it all.
"""
import copy
import json
import re
from dataclasses import dataclass, field

from ..errors import UserError

__all__ = ["slugify", "title_for", "split_id", "kernel_meta", "validate_kernel_meta", "dataset_meta",
           "validate_dataset_meta", "prepare_notebook", "inject_parameters", "install_cell", "KernelSpec",
           "fold_kernels", "kernel_input_dir", "dumps", "KERNEL_TYPES", "LANGUAGES", "PINNING_TYPES", "KERNELSPEC"]

KERNEL_TYPES = ["script", "notebook"]  # the CLI's valid_push_kernel_types
LANGUAGES = ["python", "r", "rmarkdown"]  # valid_push_language_types
PINNING_TYPES = ["original", "latest"]
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}  # papermill on Kaggle needs `name`
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # the CLI's _validate_slug_syntax
OWNER_RE = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
KERNEL_INPUT = "/kaggle/input"


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
    if len(parts) != 2 or not all(parts): return [f"{what} id must look like owner/slug, got {ref!r}"]
    owner, slug = parts
    errs = []
    if not OWNER_RE.match(owner): errs.append(f"{what} owner {owner!r} must be lower-case letters, digits, - or _")
    if not SLUG_RE.match(slug): errs.append(f"{what} slug {slug!r} must be lower-case letters, digits and single hyphens")
    if len(slug) < min_len or (max_len and len(slug) > max_len):
        errs.append(f"{what} slug {slug!r} must be {min_len}" + (f"-{max_len}" if max_len else "+") + " characters")
    return errs


def kernel_meta(id, code_file, title=None, enable_gpu=False, enable_internet=False, is_private=True,
                dataset_sources=(), competition_sources=(), kernel_sources=(), model_sources=(),
                kernel_type="notebook", language="python", machine_shape=None):
    "The `kernel-metadata.json` dict for kernel `id` (`owner/slug`) running `code_file`; internet off, private by default."
    m = dict(id=id, title=title or title_for(str(id).split("/")[-1]), code_file=code_file, language=language,
             kernel_type=kernel_type, is_private=is_private, enable_gpu=enable_gpu, enable_tpu=False,
             enable_internet=enable_internet, dataset_sources=list(dataset_sources),
             competition_sources=list(competition_sources), kernel_sources=list(kernel_sources),
             model_sources=list(model_sources))
    if machine_shape: m["machine_shape"] = machine_shape
    return m


def validate_kernel_meta(m):
    "Raise `UserError` listing every way `m` breaks the kaggle CLI's push rules (plus: title's slug must be the id's)."
    errs = _id_problems(m.get("id", ""), "kernel", 5)
    title = m.get("title") or ""
    if len(title) < 5: errs.append(f"kernel title {title!r} must be at least 5 characters")
    slug = str(m.get("id", "")).split("/")[-1]
    if title and slugify(title) != slug:
        errs.append(f"kernel title {title!r} has slug {slugify(title)!r}, not the id's {slug!r} (Kaggle would rename it)")
    if not m.get("code_file"): errs.append("code_file is missing")
    if m.get("language") not in LANGUAGES: errs.append(f"language must be one of {LANGUAGES}, got {m.get('language')!r}")
    if m.get("kernel_type") not in KERNEL_TYPES:
        errs.append(f"kernel_type must be one of {KERNEL_TYPES}, got {m.get('kernel_type')!r}")
    for k in ("is_private", "enable_gpu", "enable_tpu", "enable_internet"):
        if k in m and not isinstance(m[k], bool): errs.append(f"{k} must be true or false, got {m[k]!r}")
    p = m.get("docker_image_pinning_type")
    if p is not None and p not in PINNING_TYPES: errs.append(f"docker_image_pinning_type must be one of {PINNING_TYPES}")
    for s in m.get("dataset_sources", []):
        parts = s.split("/")
        if len(parts) not in (2, 3) or not all(parts): errs.append(f"dataset source {s!r} must be owner/slug[/version]")
    for s in m.get("kernel_sources", []):
        parts = s.split("/")
        if len(parts) not in (2, 3) or not all(parts): errs.append(f"kernel source {s!r} must be owner/slug[/version]")
        elif len(parts[1]) < 5: errs.append(f"kernel source {s!r}: slug must be at least 5 characters")
    for s in m.get("model_sources", []):
        parts = s.split("/")
        if len(parts) != 5 or not all(parts) or not parts[4].isdigit():
            errs.append(f"model source {s!r} must be owner/model/framework/variation/VERSION")
    for s in m.get("competition_sources", []):
        if not SLUG_RE.match(s): errs.append(f"competition source {s!r} must be a competition slug")
    if m.get("id") in m.get("kernel_sources", []): errs.append("a kernel cannot be its own kernel source")
    if errs: raise UserError("invalid kernel metadata:\n  " + "\n  ".join(errs))
    return m


def dataset_meta(id, title=None, license="CC0-1.0", description=None):
    "The `dataset-metadata.json` dict for dataset `id` (`owner/slug`)."
    m = dict(id=id, title=title or title_for(str(id).split("/")[-1]), licenses=[{"name": license}])
    if description: m["description"] = description
    return m


def validate_dataset_meta(m):
    "Raise `UserError` unless `m` passes `kaggle datasets create`'s checks (slug and title 6-50 characters, one license)."
    errs = _id_problems(m.get("id", ""), "dataset", 6, 50)
    title = m.get("title") or ""
    if not 6 <= len(title) <= 50: errs.append(f"dataset title {title!r} must be 6-50 characters")
    if len(m.get("licenses") or []) != 1 or not m["licenses"][0].get("name"): errs.append("give exactly one license name")
    if errs: raise UserError("invalid dataset metadata:\n  " + "\n  ".join(errs))
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


def _tags(c): return c.get("metadata", {}).get("tags", [])


def _src(s): return s if isinstance(s, str) else "".join(s)


def _code_cell(nb, source, tag):
    c = {"cell_type": "code", "execution_count": None, "metadata": {"tags": [tag]}, "outputs": [], "source": source}
    if (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) >= (4, 5): c["id"] = tag  # cell ids exist from 4.5 on
    return c


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


def install_cell(nb, dataset_slug, package="kagglenlp", base=KERNEL_INPUT):
    """Copy of `nb` whose first cell pip-installs `package` offline from code dataset `dataset_slug` (mounted at
    `base/<slug>` or `base/datasets/<owner>/<slug>`) when on Kaggle."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.get("cells", []) if "kagglenlp-install" not in _tags(c)]
    src = (f"# Install {package} offline from the code dataset (internet is off on Kaggle)\n"
           "import glob, os, subprocess, sys\n"
           "if os.environ.get('KAGGLE_KERNEL_RUN_TYPE'):\n"
           f"    _d = glob.glob('{base}/{dataset_slug}') + glob.glob('{base}/datasets/*/{dataset_slug}')\n"
           f"    if not _d: raise FileNotFoundError('code dataset {dataset_slug} is not attached to this kernel')\n"
           f"    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '-q', '--no-index', '--find-links', _d[0], '{package}'])\n")
    nb["cells"] = [_code_cell(nb, src, "kagglenlp-install")] + cells
    return nb


def kernel_input_dir(kernel_id):
    "Where kernel `owner/slug`'s outputs appear to a later kernel on Kaggle: `/kaggle/input/<slug>`."
    return f"{KERNEL_INPUT}/{split_id(kernel_id)[1]}"


@dataclass
class KernelSpec:
    "One kernel to push: its metadata and the parameters injected into its notebook."
    meta: dict
    params: dict = field(default_factory=dict)
    role: str = "fold"  # fold | inference

    @property
    def id(self): return self.meta["id"]


def fold_kernels(id_prefix, n_folds, folds=None, train_code="train.ipynb", infer_code="inference.ipynb",
                 params=None, infer_params=None, dataset_sources=(), competition_sources=(), model_sources=(),
                 enable_gpu=False, enable_internet=False, infer_gpu=None):
    """Specs of one training kernel per fold (`<prefix>-fold<k>`, parameter `fold=k`) and an inference kernel
    (`<prefix>-infer`) whose `kernel_sources` are all `n_folds` fold kernels and whose `model_dirs` are their Kaggle
    mounts. `folds` picks the training kernels to (re)build; the inference kernel never has internet (code competitions)."""
    folds = list(range(n_folds)) if folds is None else list(folds)
    bad = [k for k in folds if not 0 <= k < n_folds]
    if bad or not folds: raise UserError(f"folds must be a non-empty subset of 0..{n_folds - 1}, got {folds}")
    if len(set(folds)) != len(folds): raise UserError(f"folds repeat: {folds}")
    common = dict(dataset_sources=dataset_sources, competition_sources=competition_sources, model_sources=model_sources)
    specs = []
    for k in folds:
        m = kernel_meta(f"{id_prefix}-fold{k}", train_code, enable_gpu=enable_gpu, enable_internet=enable_internet, **common)
        specs.append(KernelSpec(m, {**(params or {}), "fold": k}, "fold"))
    ids = [f"{id_prefix}-fold{k}" for k in range(n_folds)]  # inference reads every fold, also after a partial re-run
    m = kernel_meta(f"{id_prefix}-infer", infer_code, enable_gpu=enable_gpu if infer_gpu is None else infer_gpu,
                    enable_internet=False, kernel_sources=ids, **common)
    specs.append(KernelSpec(m, {**(infer_params or {}), "model_dirs": [kernel_input_dir(i) for i in ids]}, "inference"))
    for s in specs: validate_kernel_meta(s.meta)
    return specs


def dumps(obj):
    "Stable JSON text for metadata files."
    return json.dumps(obj, indent=2) + "\n"
