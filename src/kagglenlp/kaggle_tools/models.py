"""Weights as Kaggle Models: upload a local `save_pretrained` folder as a model instance with the kaggle CLI.

`kagglenlp kaggle model-upload DIR --id owner/model --framework transformers --variation default` stages the
folder's files (as links, nothing copied) beside `model-metadata.json` and `model-instance-metadata.json`, then
runs `kaggle models create` (when `kaggle models get` says the model does not exist), `kaggle models instances
create` (a new variation) or `kaggle models instances versions create` (a new version of an existing one). A kernel
then attaches it with `--model owner/model/framework/variation/VERSION` (`model_sources`), mounted at
`/kaggle/input/model/framework/variation/VERSION`; the rehearsal mounts a local folder there with `--source
REF=DIR`.
"""

import json
import re
import sys
import tempfile
from pathlib import Path

from ..errors import require
from . import creds
from .meta import OWNER_RE, SLUG_RE, dumps, title_for
from .proc import KaggleError, kaggle

__all__ = [
    "model_metadata",
    "instance_metadata",
    "check_model_folder",
    "stage_model",
    "upload_model",
    "FRAMEWORKS",
    "WEIGHT_FILES",
]

FRAMEWORKS = ["transformers", "pyTorch", "tensorFlow2", "tfLite", "jax", "flax", "keras", "coral", "scikitLearn"]
WEIGHT_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)


def model_metadata(id, title=None, private=True, description="Weights uploaded with kagglenlp"):
    "`model-metadata.json` for model `id` (`owner/slug`)."
    owner, slug = id.split("/")
    return dict(
        ownerSlug=owner,
        slug=slug,
        title=title or title_for(slug),
        isPrivate=private,
        description=description,
    )


def instance_metadata(id, framework, variation, license="Apache 2.0", overview=""):
    "`model-instance-metadata.json` for variation `variation` of model `id` in `framework`."
    owner, slug = id.split("/")
    return dict(
        ownerSlug=owner,
        modelSlug=slug,
        instanceSlug=variation,
        framework=framework,
        licenseName=license,
        overview=overview,
        fineTunable=False,
    )


def check_model_folder(folder, id, framework, variation):
    """Refuse (one `UserError`) a bad id, framework or variation, or a folder that is not a `save_pretrained`
    output."""
    parts = str(id).split("/")
    require(
        len(parts) == 2 and OWNER_RE.match(parts[0]) and SLUG_RE.match(parts[1]),
        f"model id must look like owner/model-slug (lower case, digits, single hyphens), got {id!r}",
    )
    require(framework in FRAMEWORKS, f"--framework must be one of {FRAMEWORKS}, got {framework!r}")
    require(
        re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", variation or ""),
        f"--variation {variation!r}: use a-z, 0-9, -",
    )
    d = Path(folder)
    require(d.is_dir(), f"model folder not found: {d}")
    require((d / "config.json").is_file(), f"{d} has no config.json: pass a save_pretrained() folder")
    require(any((d / w).is_file() for w in WEIGHT_FILES), f"{d} has no weights ({', '.join(WEIGHT_FILES[:2])})")
    files = sorted(p for p in d.iterdir() if p.is_file())
    creds.check_no_credentials(files)
    return files


def stage_model(folder, stage, model_meta, inst_meta):
    "Link the files of `folder` into empty folder `stage` beside the two metadata files; returns `stage`."
    stage = Path(stage)
    stage.mkdir(parents=True, exist_ok=True)
    for p in sorted(Path(folder).iterdir()):
        require(
            p.name not in ("model-metadata.json", "model-instance-metadata.json"),
            f"{p} is written by kagglenlp",
        )
        if p.is_file():
            (stage / p.name).symlink_to(p.resolve())
    (stage / "model-metadata.json").write_text(dumps(model_meta))
    (stage / "model-instance-metadata.json").write_text(dumps(inst_meta))
    return stage


def _exists(what, ref, timeout):
    "Whether `kaggle models [instances] get REF` finds `ref` (a 404 means no; any other failure is raised)."
    args = ["models", "get", ref] if what == "model" else ["models", "instances", "get", ref]
    try:
        kaggle(*args, timeout=timeout, what=f"kaggle {' '.join(args[:-1])}")
        return True
    except KaggleError as e:
        if re.search(r"\b404\b|not found", str(e), re.I):
            return False
        raise


def upload_model(folder, id, framework="transformers", variation="default", notes="kagglenlp upload", **kw):
    """Upload `save_pretrained` folder `folder` as variation `variation` of Kaggle Model `id`, creating the
    model and the variation when missing; returns `(what was done, model source prefix
    owner/model/framework/variation)`."""
    timeout, private, license = kw.get("timeout", 1800), kw.get("private", True), kw.get("license", "Apache 2.0")
    check_model_folder(folder, id, framework, variation)
    creds.require_credentials()
    inst = f"{id}/{framework}/{variation}"
    with tempfile.TemporaryDirectory(prefix="kagglenlp-model-") as tmp:
        metas = model_metadata(id, private=private), instance_metadata(id, framework, variation, license)
        stage = stage_model(folder, Path(tmp) / "m", *metas)
        done = []
        if not _exists("model", id, timeout):
            ok = r"model was created"
            kaggle("models", "create", "-p", stage, timeout=timeout, ok=ok, what="kaggle models create")
            done.append(f"created model {id}")
        print(f"uploading {folder} as {inst} (this can take minutes) ...", file=sys.stderr, flush=True)
        if done or not _exists("instance", inst, timeout):
            args = ["models", "instances", "create", "-p", stage]
            kaggle(*args, timeout=timeout, ok=r"model instance was created", what="kaggle models instances create")
            done.append(f"created variation {inst} (version 1)")
        else:
            args = ["models", "instances", "versions", "create", inst, "-p", stage, "-n", notes]
            ok = r"model instance version was created"
            kaggle(*args, timeout=timeout, ok=ok, what="kaggle models instances versions create")
            done.append(f"added a version to {inst}")
        json.loads((stage / "model-metadata.json").read_text())  # still ours: nothing rewrote it
    return "; ".join(done), inst
