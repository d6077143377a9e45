"""IMDb texts in, fastai `DataLoaders` out: read either layout, tokenize once (cached), LM and classifier blocks.

Both layouts become one DataFrame with columns `text, label, is_valid, split`:
- the aclImdb folder (`train/{pos,neg}`, `test/{pos,neg}`, `unsup/` or the original's `train/unsup/`): label =
  parent folder, valid = `test` grandparent;
- a CSV `label,text[,is_valid]` (fastai's IMDB_SAMPLE); `is_valid` must be True/False, 1/0 or yes/no in every row;
  with no valid rows a seeded random `valid_pct` is held out; rows without a label are unlabelled (LM only).
Files must be UTF-8 (anything else is refused, naming the file); empty texts are dropped with a note.
The language model reads every text; the classifier reads the labelled ones with the LM's vocab.
Tokens are cached under `outputs/cache/imdb_tok/<sha1 of the texts>.pkl`, so the second run and the classifier skip
spaCy.
"""

import hashlib
import os
import pickle
from collections import Counter
from pathlib import Path

import pandas as pd

from ..errors import UTF8_HINT, UserError, not_utf8, require
from ..files import read_csv_text, write_pickle
from ..paths import outputs_dir

__all__ = [
    "read_folder",
    "parse_bools",
    "read_labelled_csv",
    "read_texts",
    "read_corpus",
    "read_utf8",
    "drop_empty_texts",
    "n_cpus",
    "tok_cache_dir",
    "texts_key",
    "tokenize_cached",
    "text_of",
    "make_lm_vocab",
    "lm_dls",
    "check_batches",
    "labelled",
    "clas_dls",
]

TOK_VERSION = "fastai-spacy-rules-v1"  # bump when the tokenizer or its rules change, to invalidate the cache
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes"}, {"false", "0", "no"}  # is_valid values (any case)


def n_cpus():
    "Cores this process may use (affinity-aware)."
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def read_utf8(f):
    "The text of file `f`, or a `UserError` naming it when it is not UTF-8."
    try:
        return Path(f).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise not_utf8(f, UTF8_HINT) from None


def drop_empty_texts(df, src, log=print):
    "`df` without its empty (or blank) texts, noting how many went; a `UserError` when none remain."
    empty = df["text"].isna() | (df["text"].astype(str).str.strip() == "")
    require(not empty.all(), f"{src}: every text is empty ({len(df)} rows); nothing to train on")
    if empty.any():
        log(f"note: {src}: dropped {int(empty.sum())} of {len(df)} texts that are empty")
    return df[~empty].reset_index(drop=True)


def read_folder(path, log=print):
    "aclImdb layout under `path` as a DataFrame `text, label, is_valid, split` (label '' for `unsup`)."
    path = Path(path)
    rows = []
    for split in ("train", "test", "unsup"):
        for f in sorted((path / split).rglob("*.txt")) if (path / split).is_dir() else []:
            # aclImdb has train/unsup
            unsup = split == "unsup" or f.parent.name == "unsup" or f.parent == path / split
            lbl = "" if unsup else f.parent.name
            rows.append(dict(text=read_utf8(f), label=lbl, is_valid=split == "test", split=split))
    require(rows, f"{path}: no .txt files under train/, test/ or unsup/ (expected the aclImdb layout or a CSV)")
    return drop_empty_texts(pd.DataFrame(rows), path, log)


def parse_bools(col, name, src):
    """Series `col` (text) as booleans: True/False, 1/0, yes/no in any case; a blank or other value is a
    `UserError` naming column `name` of file `src`, the first such row (as a spreadsheet numbers it) and how
    many there are."""
    v = col.astype(str).str.strip().str.lower()
    bad = ~v.isin(TRUE_WORDS | FALSE_WORDS)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise UserError(
            f"{src}: column {name} must be True/False (or 1/0, yes/no); row {i + 2} holds {col.iloc[i]!r} "
            f"({int(bad.sum())} row(s) like it); fill every cell"
        )
    return v.isin(TRUE_WORDS).to_numpy()


def read_labelled_csv(fname, valid_pct=0.2, seed=42, log=print):
    """CSV `fname` with `label,text[,is_valid]`; holds out a seeded `valid_pct` when no row is marked valid. Rows
    without a label are unlabelled (the language model reads them, the classifier not), with a note."""
    fname = Path(fname)
    df = read_csv_text(fname, text=("text", "is_valid"))  # `NA` is a review, and a blank is_valid is no `False`
    miss = [c for c in ("label", "text") if c not in df.columns]
    require(not miss, f"{fname}: missing column(s) {', '.join(miss)}; expected label,text[,is_valid]")
    require(len(df), f"{fname}: no rows")
    df["is_valid"] = parse_bools(df["is_valid"], "is_valid", fname) if "is_valid" in df.columns else False
    df = drop_empty_texts(df, fname, log)
    no_label = df["label"].isna() | (df["label"].astype(str).str.strip() == "")
    if no_label.any():
        log(
            f"note: {fname}: {int(no_label.sum())} of {len(df)} rows have no label (blank or NA): they are "
            "unlabelled texts for the language model only, not for the classifier"
        )
    df["text"], df["label"] = df["text"].astype(str), df["label"].where(~no_label, "").astype(str).str.strip()
    if not df["is_valid"].any():
        df["is_valid"] = df.index.isin(df.sample(frac=valid_pct, random_state=seed).index)
    df["split"] = df["is_valid"].map({True: "test", False: "train"})
    return df[["text", "label", "is_valid", "split"]]


def read_texts(data, valid_pct=0.2, seed=42, log=print):
    "Folder or CSV `data` as a DataFrame `text, label, is_valid, split`."
    data = Path(data)
    require(data.exists(), f"{data}: no such file or folder")
    return read_folder(data, log) if data.is_dir() else read_labelled_csv(data, valid_pct, seed, log)


def read_corpus(fnames):
    "Plain-text corpus files `fnames` (e.g. WikiText) as a DataFrame of non-empty lines in `text`."
    lines = []
    for f in map(Path, fnames):
        require(f.is_file(), f"{f}: corpus file not found")
        lines += [o.strip() for o in read_utf8(f).splitlines() if o.strip()]
    require(lines, f"{', '.join(map(str, fnames))}: corpus has no text")
    return pd.DataFrame(dict(text=lines, label="", is_valid=False, split="corpus"))


def tok_cache_dir():
    "Where token caches live (`outputs/cache/imdb_tok`)."
    return outputs_dir() / "cache" / "imdb_tok"


def texts_key(texts):
    "sha1 of the tokenizer version and every text in `texts`, in order."
    h = hashlib.sha1(TOK_VERSION.encode())
    for t in texts:
        h.update(t.encode("utf-8", "replace"))
        h.update(b"\0")
    return h.hexdigest()


def tokenize_cached(df, n_workers=None, cache_dir=None):
    "Copy of `df` with `toks` (token lists) and `toks_length`, from the cache when these texts were seen before."
    from fastai.text.all import tokenize_texts

    cache = Path(cache_dir or tok_cache_dir()) / f"{texts_key(df['text'])}.pkl"
    if cache.exists():
        with open(cache, "rb") as f:
            toks = pickle.load(f)
    else:
        toks = [list(o) for o in tokenize_texts(list(df["text"]), n_workers=n_workers or n_cpus())]
        write_pickle(toks, cache)
    df = df.copy()
    df["toks"], df["toks_length"] = toks, [len(o) for o in toks]
    return df


def text_of(r):
    "The tokens of DataFrame row `r` when cached, else its raw `text`; strings and token lists pass through."
    if isinstance(r, (str, list, tuple)):
        return r
    return r["toks"] if "toks" in r.index else r["text"]


def make_lm_vocab(df, min_freq=3, max_vocab=60000):
    "fastai vocab from the tokens of tokenized `df` (`min_freq`, `max_vocab` as `Numericalize`)."
    from fastai.text.all import make_vocab

    return make_vocab(Counter(t for o in df["toks"] for t in o), min_freq=min_freq, max_vocab=max_vocab)


def check_batches(df, bs, lm_valid_pct=0.1, seed=42, src="the data"):
    """Refuse a batch size that leaves the language model (either split of tokenized `df`, cut as `lm_dls` cuts
    it) or the classifier (its labelled training rows) without one full batch: fastai would fail or silently not
    train."""
    from fastai.data.transforms import RandomSplitter

    lens = df["toks_length"].to_numpy()
    for part, idx in zip(("training", "validation"), RandomSplitter(lm_valid_pct, seed=seed)(df)):
        n_tok = int(lens[list(idx)].sum())
        require(
            n_tok > bs,
            f"{src}: the language model's {part} split ({len(idx)} of {len(df)} texts with --lm-valid-pct "
            f"{lm_valid_pct}) holds {n_tok} tokens, not one batch (--bs {bs}); give more texts or change --bs or "
            "--lm-valid-pct",
        )
    n_clas = int(((df["label"] != "") & ~df["is_valid"].astype(bool)).sum())
    require(
        n_clas == 0 or n_clas >= bs,
        f"{src}: {n_clas} classifier training texts are fewer than one batch (--bs {bs}), so nothing would train; "
        "lower --bs or give more texts",
    )


def lm_dls(df, vocab, bs=64, seq_len=72, valid_pct=0.1, backwards=False, seed=42):
    "Language-model `DataLoaders` over every text of tokenized `df`, random `valid_pct` held out."
    from fastai.text.all import DataBlock, RandomSplitter, TextBlock

    from .tok import pretokenized

    blk = TextBlock(pretokenized(), vocab=vocab, is_lm=True, seq_len=seq_len, backwards=backwards)
    db = DataBlock(blocks=blk, get_x=text_of, splitter=RandomSplitter(valid_pct, seed=seed))
    return db.dataloaders(df.reset_index(drop=True), bs=bs, seq_len=seq_len, num_workers=0)


def labelled(df, src="the data"):
    "The labelled rows of `df`, refused unless they hold 2+ classes and both training and validation rows."
    df = df[df["label"] != ""].reset_index(drop=True)
    require(
        len(df),
        f"{src}: no labelled texts for the classifier (aclImdb needs train/{{pos,neg}}; a CSV a label)",
    )
    labels = sorted(df["label"].unique())
    require(len(labels) >= 2, f"{src}: the classifier needs at least 2 classes, found only {labels!r}")
    for part, m in (("training", ~df["is_valid"]), ("validation", df["is_valid"])):
        require(m.any(), f"{src}: no {part} texts for the classifier (check is_valid / the test folder)")
    return df


def clas_dls(df, vocab, bs=64, seq_len=72, backwards=False):
    """Classifier `DataLoaders` over the labelled rows of tokenized `df`, using the LM's `vocab`, split on
    `is_valid`."""
    from fastai.text.all import CategoryBlock, ColReader, ColSplitter, DataBlock, TextBlock

    from .tok import pretokenized

    df = labelled(df)
    blk = TextBlock(pretokenized(), vocab=vocab, seq_len=seq_len, backwards=backwards)
    db = DataBlock(
        blocks=(blk, CategoryBlock), get_x=text_of, get_y=ColReader("label"), splitter=ColSplitter("is_valid")
    )
    return db.dataloaders(df, bs=bs, seq_len=seq_len, num_workers=0)
