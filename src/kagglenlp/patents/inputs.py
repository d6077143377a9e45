"""Every input string a model reads for an (anchor, target, context) row: the seed's string, CPC titles, sibling
targets (also in a new order: augmentation and TTA), and the bi-encoder's two sides.

Formats (`--text`):
- `seed`: `TEXT1: {context}; TEXT2: {target}; ANC1: {anchor}` exactly as in the fast.ai lesson.
- `pair`: `{anchor}{sep}{target}{sep}{context}`: the same content without the labels (fewer tokens, so faster to
  train and predict; measured in docs/results/).
- `cpc`: `{anchor}{sep}{target}{sep}{cpc title}`: the context code replaced by its title text.
- `cpc-siblings`: `cpc` plus the other targets of the same anchor+context, never the row's own target.
`sep` is the tokenizer's own separator token (`[SEP]`) where it has one, else `"; "`.

`sibling_parts` splits the `cpc-siblings` strings into `(base, siblings)`; `join_siblings` and `shuffle_siblings`
rebuild them (the sorted order, or a new random order per row: 8th place's augmentation). `pair_texts` gives the
bi-encoder's (and the zero-shot floor's) two sides: the anchor (with its CPC title for `cpc`) and the target.
"""

import json
from pathlib import Path

from ..errors import UserError, require

__all__ = [
    "FORMATS",
    "MAX_LEN",
    "MIN_LEN",
    "TITLED",
    "SECTION_TITLES",
    "seed_input",
    "Titles",
    "load_titles",
    "context_titles",
    "sibling_targets",
    "model_sep",
    "make_inputs",
    "cpc_inputs",
    "SIB_JOIN",
    "sibling_parts",
    "join_siblings",
    "shuffle_siblings",
    "pair_texts",
]

FORMATS = ("seed", "pair", "cpc", "cpc-siblings")
TITLED = ("cpc", "cpc-siblings")  # the formats that need a CPC title for every context
MAX_LEN = 256  # default truncation of a model input, in tokens (`--max-len`)
MIN_LEN = 8  # below this even the separators and a word or two do not fit: predictions turn constant

# The nine CPC section titles: the fallback when no `--titles` file is given.
SECTION_TITLES = {
    "A": "HUMAN NECESSITIES",
    "B": "PERFORMING OPERATIONS; TRANSPORTING",
    "C": "CHEMISTRY; METALLURGY",
    "D": "TEXTILES; PAPER",
    "E": "FIXED CONSTRUCTIONS",
    "F": "MECHANICAL ENGINEERING; LIGHTING; HEATING; WEAPONS; BLASTING",
    "G": "PHYSICS",
    "H": "ELECTRICITY",
    "Y": "GENERAL TAGGING OF NEW TECHNOLOGICAL DEVELOPMENTS",
}


def seed_input(anchor, target, context):
    "The lesson's input string for one row."
    return f"TEXT1: {context}; TEXT2: {target}; ANC1: {anchor}"


class Titles(dict):
    "CPC code -> title, remembering the file it came from (`path`) so that a message can name it."

    path = None


def load_titles(path):
    "Read a JSON object of CPC code -> title from `path` (e.g. `cpc_texts.json`) as `Titles` (its `path` set)."
    path = Path(path)
    require(path.is_file(), f"--titles file not found: {path}")
    try:
        titles = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"--titles file {path} is not valid JSON: {e}") from None
    require(
        isinstance(titles, dict) and all(isinstance(v, str) for v in titles.values()),
        f"--titles file {path} must hold one JSON object mapping CPC codes to title strings",
    )
    out = Titles(titles)
    out.path = path
    return out


def context_titles(contexts, titles=None, source="--titles file", fix=None):
    """Map each code in `contexts` to its title from `titles`, or to its section title when `titles` is None;
    `UserError` for codes without one, naming them, `source` (and the titles file when `titles` came from
    `load_titles`) and what to do (`fix`; by default: pass a titles file, or add the codes to the one passed)."""
    import pandas as pd  # here, not at the top: `kagglenlp ... --help` stays free of pandas

    contexts = pd.Series(contexts, dtype=str)
    if titles is None:
        out = contexts.str[0].map(SECTION_TITLES)
        bad = sorted(set(contexts[out.isna()]))
        fix = fix or "pass --titles FILE (a JSON object of CPC code -> title) that covers them"
        require(not bad, f"contexts {bad[:5]} start with no CPC section letter (A-H, Y); {fix}")
        return out
    bad = sorted(set(contexts) - set(titles))
    path = getattr(titles, "path", None)
    where = f"{source or '--titles file'}" + (f" {path}" if path and str(path) not in (source or "") else "")
    fix = fix or f"add them to {path or 'that file'} or pass a --titles file that covers them"
    require(not bad, f"{len(bad)} context(s) missing from the {where}: {bad[:10]}; {fix}")
    return contexts.map(titles)


def sibling_targets(df, cap=None):
    "For each row of `df`, the other targets of its anchor+context (sorted, own target excluded, at most `cap`)."
    import pandas as pd

    groups = df.groupby(["anchor", "context"], sort=False)["target"].agg(lambda s: sorted(set(s)))
    allt = pd.Series(list(zip(df["anchor"], df["context"]))).map(groups)
    return [[t for t in ts if t != own][:cap] for ts, own in zip(allt, df["target"])]


def model_sep(tok=None):
    "The tokenizer's separator token (`[SEP]`-like) or `'; '` when it has none."
    sep = getattr(tok, "sep_token", None) if tok is not None else None
    return sep or "; "


def make_inputs(df, fmt="seed", titles=None, sep="; ", sib_cap=None):
    "Input strings for every row of `df` in format `fmt` (see module docstring)."
    require(fmt in FORMATS, f"unknown --text {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "seed":
        return [seed_input(a, t, c) for a, t, c in zip(df["anchor"], df["target"], df["context"])]
    if fmt == "pair":
        return [f"{a}{sep}{t}{sep}{c}" for a, t, c in zip(df["anchor"], df["target"], df["context"])]
    if fmt == "cpc":
        return cpc_inputs(df, titles, sep)
    return join_siblings(sibling_parts(df, titles, sep, sib_cap), sep)


def cpc_inputs(df, titles=None, sep="; "):
    "The `cpc` strings of the rows of `df`: anchor, target and the context's CPC title."
    ttl = context_titles(df["context"], titles)
    return [f"{a}{sep}{t}{sep}{c}" for a, t, c in zip(df["anchor"], df["target"], ttl)]


SIB_JOIN = "; "  # how the sibling targets are joined in `cpc-siblings`


def sibling_parts(df, titles=None, sep="; ", sib_cap=None):
    "`[(base, siblings)]` per row of `df`: `base` is the `cpc` text, `siblings` the sorted other targets (capped)."
    return list(zip(cpc_inputs(df, titles, sep), sibling_targets(df, sib_cap)))


def join_siblings(parts, sep="; "):
    "The `cpc-siblings` strings of `parts` (`[(base, siblings)]`) in the siblings' given order."
    return [f"{b}{sep}{SIB_JOIN.join(s)}" for b, s in parts]


def shuffle_siblings(parts, rng, sep="; "):
    "The `cpc-siblings` strings of `parts` with each row's siblings in a new random order drawn from `rng`."
    return join_siblings([(b, [s[i] for i in rng.permutation(len(s))]) for b, s in parts], sep)


def pair_texts(df, text="seed", titles=None):
    "`(anchor side, target side)` strings for the rows of `df`: the CPC title joins the anchor for `text='cpc'`."
    a = [str(x) for x in df["anchor"]]
    if text == "cpc":
        a = [f"{x}; {t}" for x, t in zip(a, context_titles(df["context"], titles))]
    return a, [str(x) for x in df["target"]]
