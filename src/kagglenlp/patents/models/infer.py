"""Inference helpers every recipe shares: the device, mixed precision, length-sorted batches, no `Trainer`.

Batches are sorted by length (least padding), run under `torch.inference_mode` with bf16 (or fp16) autocast on a
GPU, and their outputs stay on the device until the end of a chunk (the GPU never waits for the host); the original
row order is restored. `predict_texts` streams its strings in chunks of `TEXT_CHUNK` (tokenize, predict, drop), so
memory is bounded by the chunk, not by the number of test rows. `phrase_cosines` embeds each distinct phrase once
(`embed_texts`, mean pooling) and scores pairs from that cache: the bi-encoder's prediction and the zero-shot
floor.
"""

import numpy as np

from ..inputs import MAX_LEN

__all__ = [
    "MODEL_INPUTS",
    "bf16_ok",
    "device",
    "autocast",
    "to_device",
    "length_batches",
    "predict_encoded",
    "predict_texts",
    "TEXT_CHUNK",
    "embed_texts",
    "cosine",
    "phrase_cosines",
    "PAIR_CHUNK",
]

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def bf16_ok():
    "True on GPUs with native bf16 (Ampere and newer); a T4 (sm_75) only emulates it, so it gets fp16."
    import torch

    return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 8


def device(name=None):
    "The torch device `name`, or CUDA when available, else the CPU."
    import torch

    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def autocast(dev):
    "bf16 (or fp16 where bf16 is missing, e.g. a T4) autocast on CUDA; nothing on the CPU (fp32 is exact there)."
    import contextlib

    import torch

    if dev.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=torch.bfloat16 if bf16_ok() else torch.float16)


def to_device(batch, dev):
    "Tensors of `batch` on `dev`; to a GPU through pinned memory without waiting (no sync per batch)."
    if dev.type != "cuda":
        return {k: v.to(dev) for k, v in batch.items()}
    return {k: v.pin_memory().to(dev, non_blocking=True) for k, v in batch.items()}


def length_batches(lengths, bs):
    """Index batches of at most `bs` rows sorted by `lengths`, longest first (a batch too big for memory fails at
    once)."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + bs] for i in range(0, len(order), bs)]


def predict_encoded(model, tok, enc, bs, dev=None):
    """Raw outputs (first logit) of `model` for token-id lists `enc` (`tok(...)` output without padding): length-
    sorted batches of `bs` padded per batch, original order restored."""
    import torch

    dev = device(dev) if not isinstance(dev, torch.device) else dev
    model = model.eval().to(dev)
    keys = [k for k in MODEL_INPUTS if k in enc]
    batches, outs = length_batches([len(x) for x in enc["input_ids"]], bs), []
    with torch.inference_mode(), autocast(dev):
        for idx in batches:
            batch = tok.pad({k: [enc[k][i] for i in idx] for k in keys}, return_tensors="pt")
            outs.append(model(**to_device(batch, dev)).logits.float().reshape(len(idx), -1)[:, 0])
    out = np.empty(len(enc["input_ids"]), dtype=np.float64)
    if batches:
        out[np.concatenate(batches)] = torch.cat(outs).cpu().numpy()
    return out


TEXT_CHUNK = 16384  # input strings tokenized and predicted at once: memory bounded by the chunk, not the row count


def predict_texts(model, tok, texts, bs=256, max_len=MAX_LEN, dev=None, chunk=TEXT_CHUNK):
    """Raw outputs of `model` for input strings `texts` (truncated to `max_len` tokens), streamed `chunk`
    strings at a time: each chunk is tokenized, predicted in length-sorted batches and dropped before the next."""
    texts = texts if isinstance(texts, list) else list(texts)
    out = np.empty(len(texts), dtype=np.float64)
    for i in range(0, len(texts), chunk):
        enc = tok(texts[i : i + chunk], truncation=True, max_length=max_len)
        out[i : i + chunk] = predict_encoded(model, tok, enc, bs, dev)
    return out


def embed_texts(encoder, tok, texts, bs=256, max_len=MAX_LEN):
    """Mean-pooled embeddings (float32 array, one row per text) of `texts` by `encoder` (a bare backbone, or a
    `BiEncoder` via its `embed`); texts are batched by length, `inference_mode`, bf16/fp16 autocast on a GPU."""
    import torch

    from .heads import mean_pool

    embed = encoder.embed if hasattr(encoder, "embed") else None
    texts = list(texts)
    order = np.argsort([len(t) for t in texts], kind="stable")
    dev = next(encoder.parameters()).device
    outs = []
    was_training = encoder.training
    encoder.eval()
    with torch.inference_mode(), autocast(dev):
        for i in range(0, len(texts), bs):
            idx = order[i : i + bs]
            enc = tok(
                [texts[j] for j in idx],
                truncation=True,
                max_length=max_len,
                padding=True,
                return_tensors="pt",
            )
            b = to_device({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}, dev)
            ids, mask = b["input_ids"], b["attention_mask"]
            if embed is not None:
                e = embed(ids, mask)
            else:
                e = mean_pool(encoder(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
            outs.append(e.float())  # kept on the device: no wait per batch
    encoder.train(was_training)
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    if outs:
        out[order] = torch.cat(outs).cpu().numpy()
    return out


def cosine(u, v):
    "Row-wise cosine similarity of arrays `u` and `v`."
    nu = np.linalg.norm(u, axis=1).clip(min=1e-8)
    nv = np.linalg.norm(v, axis=1).clip(min=1e-8)
    return (u * v).sum(1) / (nu * nv)


PAIR_CHUNK = 8192  # pairs scored at once from the phrase cache: memory O(distinct phrases + chunk), not O(rows)


def phrase_cosines(encoder, tok, a, b, bs=256, max_len=MAX_LEN, chunk=PAIR_CHUNK):
    """Cosine of the embeddings of `a[i]` and `b[i]`, embedding each distinct phrase once and scoring the pairs
    `chunk` at a time from the unit-normalised cache (never one embedding row per pair for all rows)."""
    uniq = sorted(set(a) | set(b))
    pos = {t: i for i, t in enumerate(uniq)}
    emb = embed_texts(encoder, tok, uniq, bs, max_len)
    ia = np.fromiter((pos[t] for t in a), dtype=np.int64, count=len(a))
    ib = np.fromiter((pos[t] for t in b), dtype=np.int64, count=len(b))
    out = np.empty(len(ia), dtype=np.float32 if emb.dtype == np.float32 else np.float64)
    for i in range(0, len(ia), chunk):
        out[i : i + chunk] = cosine(emb[ia[i : i + chunk]], emb[ib[i : i + chunk]])
    return out
