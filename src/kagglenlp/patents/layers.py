"""Pooling, losses and the score's postprocessing: the building blocks the recipes share (torch imported lazily).

- `mean_pool` / `pool_states`: one vector per sequence from token states (`cls`, `mean` over real tokens, or
  learned `attention`); padding never counts;
- `pair_loss`: MSE on the raw output, or BCE with logits against the score in [0, 1];
- `postprocess`: raw model outputs into the score's scale (a sigmoid after `bce`).
"""

import numpy as np

__all__ = ["POOLS", "LOSSES", "mean_pool", "pool_states", "pair_loss", "postprocess"]

POOLS = ("cls", "mean", "attention")
LOSSES = ("mse", "bce")


def mean_pool(states, mask):
    "Mean of `states` (batch, tokens, dim) over the tokens where `mask` is 1; padding never counts."
    m = mask.unsqueeze(-1).to(states.dtype)
    return (states * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pool_states(states, mask, pool, attn=None):
    "One vector per sequence from token `states`: `cls` (first token), `mean` or `attention` (scores from `attn`)."
    import torch

    if pool == "cls":
        return states[:, 0]
    if pool == "mean":
        return mean_pool(states, mask)
    w = attn(states).squeeze(-1).masked_fill(mask == 0, torch.finfo(states.dtype).min)
    return (torch.softmax(w, dim=1).unsqueeze(-1) * states).sum(1)


def pair_loss(logits, labels, loss):
    "MSE on the output, or BCE with logits against the score in [0, 1]."
    import torch.nn.functional as F

    labels = labels.to(logits.dtype).view(-1)
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, labels)
    return F.mse_loss(logits, labels)


def postprocess(fmt, raw):
    "Predictions in the score's scale from a fold model's raw outputs (a sigmoid when `fmt['loss']` is `bce`)."
    raw = np.asarray(raw, dtype=float).reshape(-1)
    return 1 / (1 + np.exp(-raw)) if fmt.get("loss") == "bce" else raw
