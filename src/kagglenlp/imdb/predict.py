"""Use the trained models: classify many texts in batches with exported classifiers; sample text from an LM."""
from pathlib import Path

import pandas as pd

from ..errors import UserError, require

__all__ = ["read_new_texts", "load_model", "predict_probs", "predict_df", "write_predictions"]


def read_new_texts(src):
    "Texts to classify: a CSV with a `text` column (other columns kept) or every `*.txt` under folder `src`."
    src = Path(src)
    require(src.exists(), f"{src}: no such file or folder")
    if src.is_dir():
        fs = sorted(src.rglob("*.txt"))
        require(fs, f"{src}: no .txt files to classify")
        return pd.DataFrame(dict(file=[str(f.relative_to(src)) for f in fs],
                                 text=[f.read_text(encoding="utf-8", errors="replace") for f in fs]))
    try: df = pd.read_csv(src)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"{src}: cannot read as CSV ({e})") from None
    require("text" in df.columns, f"{src}: missing column text")
    require(len(df), f"{src}: no rows")
    df["text"] = df["text"].fillna("").astype(str)
    return df


def load_model(fname):
    "Exported fastai learner `fname` on the CPU (or GPU when present)."
    import torch
    from fastai.learner import load_learner
    require(Path(fname).is_file(), f"{fname}: model file not found")
    return load_learner(fname, cpu=not torch.cuda.is_available())


def predict_probs(learn, texts, bs=64):
    "Class probabilities of classifier `learn` for `texts` (list of str), batched with a progress bar, input order."
    df = pd.DataFrame(dict(text=list(texts)))
    dl = learn.dls.test_dl(df, bs=bs)
    probs, _ = learn.get_preds(dl=dl, reorder=True)
    return probs


def predict_df(models, df, bs=64):
    "`df` plus `label`, `prob` and `prob_<class>` columns from the mean probabilities of exported `models`."
    learns = [load_model(m) for m in models]
    vocabs = [list(l.dls.vocab[1]) for l in learns]
    if any(v != vocabs[0] for v in vocabs):
        raise UserError(f"the models disagree on classes: {dict(zip(map(str, models), vocabs))}")
    probs = sum(predict_probs(l, df["text"], bs) for l in learns)/len(learns)
    out = df.copy()
    out["label"] = [vocabs[0][i] for i in probs.argmax(1).tolist()]
    out["prob"] = probs.max(1).values.numpy()
    for i, cls in enumerate(vocabs[0]): out[f"prob_{cls}"] = probs[:, i].numpy()
    return out


def write_predictions(models, src, out, bs=64, overwrite=False):
    "Classify texts from `src` with `models`, write CSV `out` (refusing to replace it unless `overwrite`); returns the frame."
    out = Path(out)
    require(overwrite or not out.exists(), f"{out} already exists; pass --overwrite or another --out (nothing was written)")
    res = predict_df(models, read_new_texts(src), bs)
    out.parent.mkdir(parents=True, exist_ok=True)
    res.drop(columns=["text"]).to_csv(out, index=False)
    return res
