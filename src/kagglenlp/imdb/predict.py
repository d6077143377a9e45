"""Use the trained models: classify many texts in batches with exported classifiers; sample text from an LM.

`load_learner_file` opens a file written by `learn.export()` and checks it is the kind asked for, so a language
model, a weights file (`.pth`) or a CSV passed as `--model` is one clear error naming the file to pass instead.
Exported learners are pickles: load only files you trust (your own `outputs/`).
"""

import warnings
import zipfile
from pathlib import Path

import pandas as pd

from ..errors import UserError, require
from ..files import check_writable, read_csv_text, write_csv

__all__ = [
    "read_new_texts",
    "load_learner_file",
    "learner_kind",
    "predict_probs",
    "predict_df",
    "write_predictions",
]

# what `kagglenlp imdb train` exports, per direction
EXPORTED = dict(classifier="classifier_{}.pkl", lm="lm_{}.pkl")
WHAT = dict(classifier="an exported classifier", lm="an exported language model")


def read_new_texts(src):
    "Texts to classify: a CSV with a `text` column (other columns kept) or every `*.txt` under folder `src`."
    from .data import read_utf8

    src = Path(src)
    require(src.exists(), f"{src}: no such file or folder")
    if src.is_dir():
        fs = sorted(src.rglob("*.txt"))
        require(fs, f"{src}: no .txt files to classify")
        return pd.DataFrame(dict(file=[str(f.relative_to(src)) for f in fs], text=[read_utf8(f) for f in fs]))
    df = read_csv_text(src, text=None)  # every column as written: ids such as `NA` come back unchanged
    require("text" in df.columns, f"{src}: missing column text")
    require(len(df), f"{src}: no rows")
    return df


def _suggest(fname, kind):
    "The file to pass instead of `fname` for `kind`: the export beside it (or one folder up), else the usual path."
    fname = Path(fname)
    want = EXPORTED[kind].format("bwd" if "bwd" in fname.stem else "fwd")
    for d in (fname.parent, fname.parent.parent):
        if (d / want).is_file():
            return str(d / want)
    return f"outputs/<name>/{want}"


def _not_a_learner(fname, kind, err):
    "The message for a `fname` that `load_learner` could not open (`err`): what the file is, what to pass."
    import torch

    fix = f"pass {WHAT[kind]} such as {_suggest(fname, kind)} (written by `kagglenlp imdb train`)"
    with open(fname, "rb") as f:
        head = f.read(4096)
    if not zipfile.is_zipfile(fname) and not head.startswith(b"\x80"):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return f"{fname} is not a PyTorch/fastai file; {fix}"
        return f"{fname} is a text file (a CSV of texts goes to --texts), not a model; {fix}"
    try:
        obj = torch.load(fname, map_location="cpu", weights_only=True)
    except Exception:  # not plain weights either
        obj = None
    if isinstance(obj, dict):
        return (
            f"{fname} holds model weights (a checkpoint or state dict, like models/*.pth), not a whole learner; {fix}"
        )
    return f"{fname} cannot be loaded as {WHAT[kind]} ({type(err).__name__}: {str(err).splitlines()[0]}); {fix}"


def learner_kind(learn):
    "'classifier' or 'lm' for a fastai AWD-LSTM text learner, else None."
    from fastai.text.models.core import LinearDecoder, PoolingLinearClassifier

    head = learn.model[-1] if len(getattr(learn.model, "_modules", {})) > 1 else None
    if isinstance(head, PoolingLinearClassifier):
        return "classifier"
    return "lm" if isinstance(head, LinearDecoder) else None


def load_learner_file(fname, kind="classifier"):
    """Learner exported to `fname` (`learn.export()`), on the GPU when present, checked to be `kind`
    (classifier/lm)."""
    import torch
    from fastai.learner import Learner, load_learner

    fname = Path(fname)
    require(fname.exists(), f"{fname}: model file not found")
    require(
        not fname.is_dir(),
        f"{fname} is a folder; pass {WHAT[kind]} such as {fname / EXPORTED[kind].format('fwd')}",
    )
    try:
        # fastai warns that export files are pickles at every load: --model says so
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="load_learner` uses Python's insecure pickle")
            learn = load_learner(fname, cpu=not torch.cuda.is_available())
    except Exception as e:  # torch and pickle raise many types for a file that is not an exported learner
        raise UserError(_not_a_learner(fname, kind, e)) from None
    if not isinstance(learn, Learner):  # e.g. a state dict when loaded onto the GPU
        raise UserError(_not_a_learner(fname, kind, TypeError(type(learn).__name__)))
    got = learner_kind(learn)
    if got != kind:
        other = WHAT[got] if got else "a fastai learner but not an AWD-LSTM text model"
        raise UserError(f"{fname} is {other}, not {WHAT[kind]}; pass {_suggest(fname, kind)}")
    return learn


def predict_probs(learn, texts, bs=64):
    """Class probabilities of classifier `learn` for `texts` (list of str), batched with a progress bar, input
    order."""
    df = pd.DataFrame(dict(text=list(texts)))
    dl = learn.dls.test_dl(df, bs=bs)
    probs, _ = learn.get_preds(dl=dl, reorder=True)
    return probs


def predict_df(models, df, bs=64):
    "`df` plus `label`, `prob` and `prob_<class>` columns from the mean probabilities of exported `models`."
    learns = [load_learner_file(m) for m in models]
    vocabs = [list(learn.dls.vocab[1]) for learn in learns]
    if any(v != vocabs[0] for v in vocabs):
        raise UserError(f"the models disagree on classes: {dict(zip(map(str, models), vocabs))}")
    probs = sum(predict_probs(learn, df["text"], bs) for learn in learns) / len(learns)
    out = df.copy()
    out["label"] = [vocabs[0][i] for i in probs.argmax(1).tolist()]
    out["prob"] = probs.max(1).values.numpy()
    for i, cls in enumerate(vocabs[0]):
        out[f"prob_{cls}"] = probs[:, i].numpy()
    return out


def write_predictions(models, src, out, bs=64, overwrite=False):
    "Classify texts from `src` with `models` into CSV `out` (kept unless `overwrite`); returns the frame."
    out = Path(out)
    require(
        overwrite or not out.exists(),
        f"{out} already exists; pass --overwrite or another --out (nothing was written)",
    )
    check_writable(out.parent)
    res = predict_df(models, read_new_texts(src), bs)
    write_csv(res.drop(columns=["text"]), out)
    return res
