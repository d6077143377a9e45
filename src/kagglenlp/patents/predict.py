"""Inference from saved fold models (no training, no network): find the finished folds, predict, average.

`find_fold_dirs` accepts experiment folders, fold folders, or (on Kaggle) fold kernels' outputs, and refuses what
would silently give a wrong submission: folds of more than one experiment or split, or an experiment with folds
missing. The fold-averaged, clipped submission is `combine.make_submission`.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import UserError, require
from ..experiment import read_json
from .fold import DONE_FILE, FORMAT_FILE, read_done
from .train import MODEL_INPUTS, bf16_ok

__all__ = [
    "find_fold_dirs",
    "fold_format",
    "fold_inputs",
    "length_batches",
    "to_device",
    "predict_encoded",
    "predict_texts",
    "predict_fold",
    "predict_folds",
]


def _candidates(d):
    "Fold folders (with a model, `input_format.json` and `done.json`) at or under `d`."
    cands = [d] if (d / FORMAT_FILE).exists() else [p.parent for p in d.rglob(FORMAT_FILE)]
    return [p for p in cands if p.name.startswith("fold") and (p / "config.json").exists() and (p / DONE_FILE).exists()]


def find_fold_dirs(model_dirs):
    """Every finished fold folder under `model_dirs` (searched recursively); `UserError` unless they are all the
    folds of one experiment and one split."""
    model_dirs = [model_dirs] if isinstance(model_dirs, (str, Path)) else list(model_dirs)
    dirs = []
    for d in map(Path, model_dirs):
        if not d.exists() and paths.is_kaggle():
            d = paths.kaggle_input(d.name)  # a kernel's outputs may be mounted under datasets/ or notebooks/
        require(d.exists(), f"--models folder not found: {d}")
        dirs += _candidates(d)
    where = ", ".join(map(str, model_dirs))
    require(dirs, f"no finished fold models (fold<k>/ with config.json, {FORMAT_FILE}, {DONE_FILE}) under {where}")
    dirs = sorted(set(dirs))
    done = {d: read_done(d) for d in dirs}
    groups = sorted({(v.get("experiment"), v.get("split_id")) for v in done.values()}, key=str)
    if len(groups) > 1:
        shown = "; ".join(f"{e} (split {s})" for e, s in groups)
        raise UserError(
            f"the fold models under {where} come from {len(groups)} experiments or splits: {shown}. "
            "Averaging them would mix different models and folds; pass one experiment's folders"
        )
    got = sorted(v["fold"] for v in done.values())
    require(len(got) == len(set(got)), f"fold(s) found twice under {where}: {got}; pass each fold once")
    n = next(iter(done.values())).get("n_folds", len(got))
    missing = sorted(set(range(n)) - set(got))
    require(
        not missing,
        f"experiment {groups[0][0]!r} has {len(got)} of its {n} folds finished under {where} "
        f"(missing: {missing}); train them (kagglenlp patents train ... resumes) or pass them too",
    )
    return dirs


def fold_format(fold_dir, df):
    """The input format fold `fold_dir`'s model was trained with; `UserError` when `df` has a context it cannot
    title (saying to retrain with a titles file that covers it)."""
    from .text import TITLED, context_titles

    fmt = read_json(Path(fold_dir) / FORMAT_FILE)
    if fmt["text"] in TITLED:
        n = len(fmt.get("titles") or {})
        trained = f"the {n} CPC titles it was trained with" if n else "the built-in CPC section titles"
        fix = "retrain with a --titles file that covers these test contexts"
        context_titles(df["context"], fmt.get("titles"), f"{trained} (model {fold_dir})", fix=fix)
    return fmt


def fold_inputs(fold_dir, df, sep):
    "Input strings for `df` built the way fold `fold_dir`'s model was trained, and that format."
    from .text import make_inputs

    fmt = fold_format(fold_dir, df)
    return make_inputs(df, fmt["text"], fmt.get("titles"), sep, fmt.get("sib_cap")), fmt


def length_batches(lengths, bs):
    "Index batches of at most `bs` rows sorted by `lengths`, longest first (a batch too big for memory fails at once)."
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + bs] for i in range(0, len(order), bs)]


def autocast(device):
    "bf16 (or fp16 where bf16 is missing, e.g. a T4) autocast on CUDA; nothing on the CPU (fp32 is exact there)."
    import contextlib

    import torch

    if device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=torch.bfloat16 if bf16_ok() else torch.float16)


def to_device(batch, device):
    "Tensors of `batch` on `device`; to a GPU through pinned memory without waiting (no sync per batch)."
    if device.type != "cuda":
        return {k: v.to(device) for k, v in batch.items()}
    return {k: v.pin_memory().to(device, non_blocking=True) for k, v in batch.items()}


def predict_encoded(model, tok, enc, bs=256, device=None):
    """Raw outputs (first logit) of `model` for token-id lists `enc` (`tok(...)` output without padding): length-
    sorted batches padded per batch, `torch.inference_mode`, outputs kept on the device until the end (the GPU never
    waits for the host), original order restored. No Trainer."""
    import torch

    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = model.eval().to(device)
    keys = [k for k in MODEL_INPUTS if k in enc]
    batches, outs = length_batches([len(x) for x in enc["input_ids"]], bs), []
    with torch.inference_mode(), autocast(device):
        for idx in batches:
            batch = tok.pad({k: [enc[k][i] for i in idx] for k in keys}, return_tensors="pt")
            outs.append(model(**to_device(batch, device)).logits.float().reshape(len(idx), -1)[:, 0])
    out = np.empty(len(enc["input_ids"]), dtype=np.float64)
    if batches:
        out[np.concatenate(batches)] = torch.cat(outs).cpu().numpy()
    return out


def predict_texts(model, tok, texts, bs=256, max_len=256, device=None):
    "Raw outputs of `model` for input strings `texts` (tokenized once, truncated to `max_len`)."
    enc = tok(list(texts), truncation=True, max_length=max_len)
    return predict_encoded(model, tok, enc, bs, device)


def predict_fold(fold_dir, df, bs=256):
    "Predictions of the model saved in `fold_dir` for the rows of `df` (score scale for head models)."
    from .heads import load_fold_model, postprocess
    from .model import load_tokenizer
    from .text import model_sep

    if read_json(Path(fold_dir) / FORMAT_FILE).get("arch") == "bi":
        from . import biencoder

        return biencoder.predict_fold(fold_dir, df, bs)
    tok, model = load_tokenizer(str(fold_dir)), load_fold_model(fold_dir)
    inputs, fmt = fold_inputs(fold_dir, df, model_sep(tok))
    return postprocess(fmt, predict_texts(model, tok, inputs, bs, fmt.get("max_len", 256)))


def predict_folds(fold_dirs, df, bs=256):
    "A frame of `id` and one raw prediction column per fold folder (named by its path's last two parts)."
    from tqdm.auto import tqdm

    out = pd.DataFrame({"id": df["id"].values})
    for d in tqdm(fold_dirs, desc="fold models"):
        out["/".join(Path(d).parts[-2:])] = predict_fold(d, df, bs)
    return out
