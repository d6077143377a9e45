"""IMDb texts in, fastai `DataLoaders` out: read either layout, tokenize once (cached), build LM and classifier blocks.

Both layouts become one DataFrame with columns `text, label, is_valid, split`:
- the aclImdb folder (`train/{pos,neg}`, `test/{pos,neg}`, `unsup/` or the original's `train/unsup/`): label = parent
  folder, valid = `test` grandparent;
- a CSV `label,text[,is_valid]` (fastai's IMDB_SAMPLE); with no valid rows a seeded random `valid_pct` is held out.
The language model reads every text; the classifier reads the labelled ones with the LM's vocab.
Tokens are cached under `outputs/cache/imdb_tok/<sha1 of the texts>.pkl`, so the second run and the classifier skip spaCy.
"""
import hashlib
import os
import pickle
from collections import Counter
from pathlib import Path

import pandas as pd

from ..errors import UserError, require
from ..paths import outputs_dir

__all__ = ["read_folder", "read_csv", "read_texts", "read_corpus", "n_cpus", "tok_cache_dir", "texts_key",
           "tokenize_cached", "text_of", "make_lm_vocab", "lm_dls", "clas_dls"]

TOK_VERSION = "fastai-spacy-rules-v1"  # bump when the tokenizer or its rules change, to invalidate the cache


def n_cpus():
    "Cores this process may use (affinity-aware)."
    try: return max(1, len(os.sched_getaffinity(0)))
    except AttributeError: return max(1, os.cpu_count() or 1)


def read_folder(path):
    "aclImdb layout under `path` as a DataFrame `text, label, is_valid, split` (label '' for `unsup`)."
    path = Path(path)
    rows = []
    for split in ("train", "test", "unsup"):
        for f in sorted((path/split).rglob("*.txt")) if (path/split).is_dir() else []:
            unsup = split == "unsup" or f.parent.name == "unsup" or f.parent == path/split  # aclImdb has train/unsup
            lbl = "" if unsup else f.parent.name
            rows.append(dict(text=f.read_text(encoding="utf-8", errors="replace"), label=lbl,
                             is_valid=split == "test", split=split))
    require(rows, f"{path}: no .txt files under train/, test/ or unsup/ (expected the aclImdb layout or a CSV)")
    return pd.DataFrame(rows)


def read_csv(fname, valid_pct=0.2, seed=42):
    "CSV `fname` with `label,text[,is_valid]`; holds out a seeded `valid_pct` when no row is marked valid."
    fname = Path(fname)
    try: df = pd.read_csv(fname)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"{fname}: cannot read as CSV ({e})") from None
    miss = [c for c in ("label", "text") if c not in df.columns]
    require(not miss, f"{fname}: missing column(s) {', '.join(miss)}; expected label,text[,is_valid]")
    require(len(df), f"{fname}: no rows")
    df = df.dropna(subset=["text"]).reset_index(drop=True)
    df["text"], df["label"] = df["text"].astype(str), df["label"].fillna("").astype(str)
    if "is_valid" in df.columns and df["is_valid"].astype(bool).any(): df["is_valid"] = df["is_valid"].astype(bool)
    else: df["is_valid"] = df.index.isin(df.sample(frac=valid_pct, random_state=seed).index)
    df["split"] = df["is_valid"].map({True: "test", False: "train"})
    return df[["text", "label", "is_valid", "split"]]


def read_texts(data, valid_pct=0.2, seed=42):
    "Folder or CSV `data` as a DataFrame `text, label, is_valid, split`."
    data = Path(data)
    require(data.exists(), f"{data}: no such file or folder")
    return read_folder(data) if data.is_dir() else read_csv(data, valid_pct, seed)


def read_corpus(fnames):
    "Plain-text corpus files `fnames` (e.g. WikiText) as a DataFrame of non-empty lines in `text`."
    lines = []
    for f in map(Path, fnames):
        require(f.is_file(), f"{f}: corpus file not found")
        lines += [o.strip() for o in f.read_text(encoding="utf-8", errors="replace").splitlines() if o.strip()]
    require(lines, f"{', '.join(map(str, fnames))}: corpus has no text")
    return pd.DataFrame(dict(text=lines, label="", is_valid=False, split="corpus"))


def tok_cache_dir():
    "Where token caches live (`outputs/cache/imdb_tok`)."
    return outputs_dir()/"cache"/"imdb_tok"


def texts_key(texts):
    "sha1 of the tokenizer version and every text in `texts`, in order."
    h = hashlib.sha1(TOK_VERSION.encode())
    for t in texts: h.update(t.encode("utf-8", "replace")); h.update(b"\0")
    return h.hexdigest()


def tokenize_cached(df, n_workers=None, cache_dir=None):
    "Copy of `df` with `toks` (token lists) and `toks_length`, from the cache when these texts were seen before."
    from fastai.text.all import tokenize_texts
    cache = Path(cache_dir or tok_cache_dir())/f"{texts_key(df['text'])}.pkl"
    if cache.exists():
        with open(cache, "rb") as f: toks = pickle.load(f)
    else:
        toks = [list(o) for o in tokenize_texts(list(df["text"]), n_workers=n_workers or n_cpus())]
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        with open(tmp, "wb") as f: pickle.dump(toks, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cache)
    df = df.copy()
    df["toks"], df["toks_length"] = toks, [len(o) for o in toks]
    return df


def text_of(r):
    "The tokens of DataFrame row `r` when cached, else its raw `text`; strings and token lists pass through."
    if isinstance(r, (str, list, tuple)): return r
    return r["toks"] if "toks" in r.index else r["text"]


def make_lm_vocab(df, min_freq=3, max_vocab=60000):
    "fastai vocab from the tokens of tokenized `df` (`min_freq`, `max_vocab` as `Numericalize`)."
    from fastai.text.all import make_vocab
    return make_vocab(Counter(t for o in df["toks"] for t in o), min_freq=min_freq, max_vocab=max_vocab)


def lm_dls(df, vocab, bs=64, seq_len=72, valid_pct=0.1, backwards=False, seed=42):
    "Language-model `DataLoaders` over every text of tokenized `df`, random `valid_pct` held out."
    from fastai.text.all import DataBlock, RandomSplitter, TextBlock
    from .tok import pretokenized
    require(len(df) >= 2, "need at least 2 texts for the language model")
    blk = TextBlock(pretokenized(), vocab=vocab, is_lm=True, seq_len=seq_len, backwards=backwards)
    db = DataBlock(blocks=blk, get_x=text_of, splitter=RandomSplitter(valid_pct, seed=seed))
    return db.dataloaders(df.reset_index(drop=True), bs=bs, seq_len=seq_len, num_workers=0)


def clas_dls(df, vocab, bs=64, seq_len=72, backwards=False):
    "Classifier `DataLoaders` over the labelled rows of tokenized `df`, using the LM's `vocab`, split on `is_valid`."
    from fastai.text.all import CategoryBlock, ColReader, ColSplitter, DataBlock, TextBlock
    from .tok import pretokenized
    df = df[df["label"] != ""].reset_index(drop=True)
    require(len(df), "no labelled texts for the classifier (aclImdb needs train/{pos,neg}; a CSV a label column)")
    labels = sorted(df["label"].unique())
    require(len(labels) >= 2, f"the classifier needs at least 2 classes, found only {labels!r}")
    for part, m in (("training", ~df["is_valid"]), ("validation", df["is_valid"])):
        require(m.any(), f"no {part} texts for the classifier (check is_valid / the test folder)")
    blk = TextBlock(pretokenized(), vocab=vocab, seq_len=seq_len, backwards=backwards)
    db = DataBlock(blocks=(blk, CategoryBlock), get_x=text_of, get_y=ColReader("label"), splitter=ColSplitter("is_valid"))
    return db.dataloaders(df, bs=bs, seq_len=seq_len, num_workers=0)
